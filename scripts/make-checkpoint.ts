// npm run make-checkpoint -- --size tiny|full --seed N --out DIR
// Writes a seeded random moondream1 checkpoint in the Hugging Face layout (see lib/moondream1-checkpoint.ts).
// Compiled to dist/scripts/make-checkpoint.js by `npm run build` (also run by `npm ci` and `npm test`).
import { parseArgs } from 'node:util';
import { CHECKPOINT_SIZES, writeMoondream1Checkpoint, type CheckpointSize } from './lib/moondream1-checkpoint.js';

const USAGE = 'Usage: npm run make-checkpoint -- --size tiny|full --seed N --out DIR\n';

function fail(message: string): never {
  process.stderr.write(`make-checkpoint: ${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: { size?: string; seed?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: { size: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const size = values.size ?? fail('--size is required');
  if (!(CHECKPOINT_SIZES as readonly string[]).includes(size)) fail(`--size must be tiny or full, not "${size}"`);
  const seedText = values.seed ?? fail('--seed is required');
  const seed = /^\d+$/.test(seedText) ? Number(seedText) : NaN;
  if (!Number.isSafeInteger(seed)) fail(`--seed must be a non-negative integer below 2^53, not "${seedText}"`);
  const outDir = values.out ?? fail('--out is required');

  const started = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
  let lastReport = 0;
  const files = await writeMoondream1Checkpoint({
    size: size as CheckpointSize,
    seed,
    outDir,
    onTensor: (_name, written, total) => {
      if (size === 'full' && (elapsed() - lastReport > 5 || written === total)) {
        lastReport = elapsed();
        process.stderr.write(`  ${(100 * written / total).toFixed(1)}% of ${(total / 1e9).toFixed(2)} GB, ${lastReport.toFixed(0)} s\n`);
      }
    },
  });
  process.stdout.write(`Wrote a ${size} moondream1 checkpoint (seed ${seed}) in ${elapsed().toFixed(1)} s:\n` +
    `  ${files.model} (${files.modelBytes} bytes)\n  ${files.tokenizer}\n  ${files.config}\n  ${files.generationConfig}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`make-checkpoint: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
