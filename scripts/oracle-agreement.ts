// How much do two builds of the SAME oracle disagree on the full-size random model?
//
//   node dist/scripts/oracle-agreement.js dump GGUF OUT.json   # node-llama-cpp's answers, this process's CPU variant
//   node dist/scripts/oracle-agreement.js compare A.json B.json
//
// scripts/oracle-agreement.sh runs `dump` twice, once with node-llama-cpp's best CPU variant for
// this machine and once with only its haswell (AVX2) variant visible, then compares the two. The
// difference is what summation order alone does to this model: the floor under any parity
// figure between two differently compiled ggml builds, ours included.
import { readFileSync, writeFileSync } from 'node:fs';
import { PARITY_PROMPTS, loadOracleModel } from './lib/llama-cpp-oracle.js';

interface Dump {
  gguf: string;
  probabilities: number[][];
  greedy: number[][];
}

const [mode, a, b] = process.argv.slice(2);
const threads = Number(process.env.THREADS ?? '2');
const flashAttention = process.env.FLASH_ATTENTION !== 'off';

if (mode === 'dump' && a && b) {
  const oracle = await loadOracleModel(a, threads, flashAttention);
  const dump: Dump = { gguf: a, probabilities: [], greedy: [] };
  for (const prompt of PARITY_PROMPTS) {
    const map = await oracle.probabilities(prompt);
    const dense = new Array<number>(51200).fill(0);
    for (const [id, p] of map) dense[id] = p;
    dump.probabilities.push(dense);
    dump.greedy.push(await oracle.greedy(prompt, 64));
  }
  await oracle.dispose();
  writeFileSync(b, JSON.stringify(dump));
} else if (mode === 'compare' && a && b) {
  const x = JSON.parse(readFileSync(a, 'utf8')) as Dump;
  const y = JSON.parse(readFileSync(b, 'utf8')) as Dump;
  let worst = 0;
  let identical = 0;
  const firstDivergence: number[] = [];
  x.probabilities.forEach((row, i) => {
    row.forEach((p, id) => (worst = Math.max(worst, Math.abs(p - (y.probabilities[i]![id] ?? 0)))));
    const g = x.greedy[i]!;
    const h = y.greedy[i]!;
    if (g.join() === h.join()) identical += 1;
    const at = g.findIndex((t, k) => t !== h[k]);
    firstDivergence.push(at < 0 ? g.length : at);
  });
  console.log(`max |dp| ${worst.toExponential(2)}, greedy identical ${identical}/${x.greedy.length}, first divergence at [${firstDivergence.join(', ')}]`);
} else {
  console.error('usage: oracle-agreement.js dump GGUF OUT.json | compare A.json B.json');
  process.exit(2);
}
