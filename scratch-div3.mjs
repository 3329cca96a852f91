import { Moondream } from './dist/src/index.js';
import { softmax } from './dist/test/helpers/llama-cpp.js';
import { readdirSync } from 'node:fs';
const ctx = [50256, 464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13, 50286, 15496, 7455, 5441, 40236, 22739, 13223, 36783, 23966];
for (const t of ['f32', 'f16', 'q8', 'q4_0']) {
  const dir = '/tmp/t7-' + t; const text = dir + '/' + readdirSync(dir).find((f) => f.includes('text-model'));
  const res = [];
  for (const batchSize of [1024, 1]) {
    const md = await Moondream.load({ text }, { gelu: 'fast', threads: 2, batchSize, kvCacheType: process.env.KV ?? 'f16' });
    res.push(softmax(await md.evaluate(ctx))); md.dispose();
  }
  let d = 0; for (let i = 0; i < res[0].length; i++) d = Math.max(d, Math.abs(res[0][i] - res[1][i]));
  console.log(t, 'batch vs single max |dp|', d.toExponential(2));
}
