// Broken checkpoints and bad output folders: `moondream-ggml convert` prints one line naming the
// problem (and the tensor), exits with 1, and leaves no output file, partial or not.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { editedCheckpoint, tinyCheckpoint } from '../helpers/tiny-model.js';
import { tempDir } from '../helpers/temp-dir.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const work = tempDir();

function runConvert(checkpoint: string, out: string): { status: number | null; stderr: string } {
  const child = spawnSync(process.execPath, [cli, 'convert', checkpoint, '--out', out, '--type', 'q4_0'], { encoding: 'utf8' });
  return { status: child.status, stderr: child.stderr };
}

/** A copy of the tiny checkpoint whose safetensors header JSON is rewritten by `edit`. */
async function headerEdited(name: string, edit: (header: Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>) => void): Promise<string> {
  const source = await tinyCheckpoint();
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const file of ['tokenizer.json', 'config.json']) copyFileSync(join(source, file), join(dir, file));
  const bytes = readFileSync(join(source, 'model.safetensors'));
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Parameters<typeof edit>[0];
  edit(header);
  let json = JSON.stringify(header);
  json = json.padEnd(Math.ceil(json.length / 8) * 8, ' ');
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(join(dir, 'model.safetensors'), Buffer.concat([prefix, Buffer.from(json), bytes.subarray(8 + headerLength)]));
  return dir;
}

function assertCleanFailure(out: string, result: { status: number | null; stderr: string }, message: RegExp): void {
  assert.equal(result.status, 1, result.stderr);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0]!, message);
  const left = existsSync(out) ? readdirSync(out) : [];
  assert.deepEqual(left, [], `files left behind: ${left.join(', ')}`);
}

describe('convert refuses bad input cleanly', () => {
  it('a missing tensor', async () => {
    const dir = await editedCheckpoint('missing', (ts) => ts.filter((t) => t.name !== 'text_model.lm_head.linear.bias'));
    const out = join(work, 'out-missing');
    assertCleanFailure(out, runConvert(dir, out), /has no tensor text_model\.lm_head\.linear\.bias/);
  });

  it('a tensor of the wrong shape', async () => {
    const name = 'text_model.transformer.h.0.mlp.fc1.weight';
    const dir = await editedCheckpoint('shape', (ts) => ts.map((t) => (t.name === name
      ? { ...t, shape: [511, 128], data: t.data.subarray(0, 511 * 128 * 2) } : t)));
    const out = join(work, 'out-shape');
    assertCleanFailure(out, runConvert(dir, out), /tensor text_model\.transformer\.h\.0\.mlp\.fc1\.weight has shape \[511, 128\], expected \[512, 128\]/);
  });

  it('an unknown dtype', async () => {
    const dir = await headerEdited('dtype', (h) => { h['text_model.lm_head.ln.bias']!.dtype = 'I16'; });
    const out = join(work, 'out-dtype');
    assertCleanFailure(out, runConvert(dir, out), /"text_model\.lm_head\.ln\.bias" has dtype I16/);
  });

  it('a truncated file', async () => {
    const source = await tinyCheckpoint();
    const dir = join(work, 'truncated');
    mkdirSync(dir, { recursive: true });
    for (const file of ['model.safetensors', 'tokenizer.json', 'config.json']) copyFileSync(join(source, file), join(dir, file));
    truncateSync(join(dir, 'model.safetensors'), 5_000_000);
    const out = join(work, 'out-truncated');
    assertCleanFailure(out, runConvert(dir, out), /Invalid safetensors file .*model\.safetensors/);
  });

  it('a header whose offsets lie', async () => {
    const dir = await headerEdited('offsets', (h) => { h['text_model.lm_head.ln.weight']!.data_offsets = [0, 256]; });
    const out = join(work, 'out-offsets');
    assertCleanFailure(out, runConvert(dir, out), /text_model\.lm_head\.ln\.weight/);
  });

  it('an output folder that cannot be created', async () => {
    const blocker = join(work, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const out = join(blocker, 'out');
    const result = runConvert(await tinyCheckpoint(), out);
    assert.equal(result.status, 1);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.match(result.stderr, /Cannot create the output folder .*a-file\/out/);
  });
});
