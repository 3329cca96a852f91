import { ourTextSpeed } from './dist/scripts/bench/text.js';
import { Moondream } from './dist/src/index.js';
const path = process.argv[2] ?? '/tmp/full-q4_0/moondream1-text-model-q4_0.gguf';
for (const flashAttention of [true, false]) {
  const md = await Moondream.load({ text: path }, { threads: 2, flashAttention });
  const prompt = Array.from({ length: 750 }, (_, i) => (i * 7919 + 13) % 50256);
  const g = await md.generate(prompt, { maxTokens: 129 });
  console.log('FA', flashAttention, 'prefill tok/s', (750000 / g.timings.prefillMs).toFixed(1), 'decode tok/s', g.timings.tokensPerSecond.toFixed(1));
  md.dispose();
}
