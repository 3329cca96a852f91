import { Moondream } from './dist/src/index.js';
const path = '/tmp/full-q4_0/moondream1-text-model-q4_0.gguf';
for (const batchSize of [512, 256, 1024]) {
  const md = await Moondream.load({ text: path }, { threads: 2, batchSize });
  const prompt = Array.from({ length: 750 }, (_, i) => (i * 7919 + 13) % 50256);
  const g = await md.generate(prompt, { maxTokens: 2 });
  console.log('batch', batchSize, 'prefill tok/s', (750000 / g.timings.prefillMs).toFixed(1));
  md.dispose();
}
