import { Moondream } from './dist/src/index.js';
import { softmax } from './dist/test/helpers/llama-cpp.js';
const text = '/tmp/t7-q8/moondream1-text-model-q8_0.gguf';
const prompt = [50256, 464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13, 50286, 15496];
for (const batchSize of [1024, 1]) {
  const md = await Moondream.load({ text }, { gelu: 'fast', threads: 2, batchSize });
  const g = (await md.generate(prompt, { maxTokens: 10 })).tokens;
  const ctx = [...prompt, ...g.slice(0, 7)];
  const p = softmax(await md.evaluate(ctx));
  console.log('batch', batchSize, g.join(' '), 'eval p', p[8790].toFixed(5), p[50587].toFixed(5));
  md.dispose();
}
