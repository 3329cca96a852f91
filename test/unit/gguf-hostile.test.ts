// Hostile and broken GGUF files: each must end in ERR_MODEL_FORMAT, never in an abort, a hang or
// a runaway allocation. Every case runs in its own child process so an abort fails only its test.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeGguf } from '../../src/index.js';
import { readGgufIsolated } from '../helpers/isolated.js';
import { RawGguf } from '../helpers/raw-gguf.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir();

/** A small valid file with metadata and two tensors, the base for truncations. */
async function validFile(): Promise<Buffer> {
  const path = join(dir, 'valid.gguf');
  await writeGguf(path, [
    { key: 'general.architecture', type: 'string', value: 'phi2' },
    { key: 'tokenizer.ggml.tokens', type: 'array', itemType: 'string', value: ['a', 'b', 'c'] },
  ], [
    { name: 'w', type: 'f32', shape: [16, 4], data: new Uint8Array(256) },
    { name: 'b', type: 'f16', shape: [16], data: new Uint8Array(32) },
  ]);
  return readFileSync(path);
}

function garbage(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

const minimalTensorFile = (ne: (bigint | number)[], type: number, offset: bigint | number = 0) =>
  new RawGguf().header(1, 0).tensorInfo('t', ne, type, offset).pad().bytes(Buffer.alloc(64)).build();

const cases: [string, () => Buffer | Promise<Buffer>, RegExp?][] = [
  ['an empty file', () => Buffer.alloc(0), /too short/],
  ['three bytes', () => Buffer.from('GGU'), /too short/],
  ['garbage bytes', () => garbage(4096, 7), /magic/],
  ['a PNG signature', () => Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), garbage(100, 3)]), /magic/],
  ['the old GGML magic', () => new RawGguf().header(0, 0, 3, 'GGML').build(), /magic 'GGUF'/],
  ['a truncated header', () => new RawGguf().bytes('GGUF').u32(3).build(), /header is truncated/],
  ['version 0', () => new RawGguf().header(0, 0, 0).build(), /version 0/],
  ['version 1', () => new RawGguf().header(0, 0, 1).build(), /version 1 /],
  ['version 4', () => new RawGguf().header(0, 0, 4).build(), /version 4 /],
  ['a big-endian version', () => new RawGguf().header(0, 0, 0x03000000).build(), /version/],
  ['a negative tensor count', () => new RawGguf().header(-1, 0).build(), /-1 tensors/],
  ['2^62 tensors', () => new RawGguf().header(2n ** 62n, 0).build(), /tensors/],
  ['2^40 metadata entries', () => new RawGguf().header(0, 2n ** 40n).build(), /metadata entries/],
  ['60,000 metadata entries in a tiny file', () => new RawGguf().header(0, 60000).kvU32('a', 1).build(), /cannot fit/],
  ['a key length of 2^63-1', () => new RawGguf().header(0, 1).u64(2n ** 63n - 1n).bytes(garbage(64, 1)).build()],
  ['an empty key', () => new RawGguf().header(0, 1).str('').u32(4).u32(1).bytes(Buffer.alloc(16)).build()],
  ['a duplicate key', () => new RawGguf().header(0, 2).kvU32('a', 1).kvU32('a', 2).build(), /duplicate/],
  ['an unknown value type', () => new RawGguf().header(0, 1).str('k').u32(13).u32(0).bytes(Buffer.alloc(16)).build()],
  ['an array of arrays', () => new RawGguf().header(0, 1).str('k').u32(9).u32(9).u64(1).bytes(Buffer.alloc(32)).build()],
  ['an array claiming 2^60 elements', () => new RawGguf().header(0, 1).str('k').u32(9).u32(4).u64(2n ** 60n).bytes(Buffer.alloc(64)).build()],
  ['an array of strings claiming 2^40 strings', () => new RawGguf().header(0, 1).str('k').u32(9).u32(8).u64(2n ** 40n).bytes(Buffer.alloc(64)).build()],
  ['a string value longer than the file', () => new RawGguf().header(0, 1).str('k').u32(8).u64(1_000_000).bytes('abc').build()],
  ['general.alignment of the wrong type', () => new RawGguf().header(0, 1).kvString('general.alignment', '32').build(), /alignment/],
  ['general.alignment that is not a power of two', () => new RawGguf().header(0, 1).kvU32('general.alignment', 48).build(), /alignment/],
  ['general.alignment of zero', () => new RawGguf().header(0, 1).kvU32('general.alignment', 0).build(), /alignment/],
  ['a tensor with 5 dimensions', () => minimalTensorFile([1, 1, 1, 1, 1], 0)],
  ['a tensor with a negative dimension', () => minimalTensorFile([-4], 0)],
  ['a tensor whose element count wraps to zero', () => minimalTensorFile([2n ** 40n, 2n ** 40n], 0), /dimension of 1099511627776, more than the file can hold/],
  ['a tensor whose element count overflows', () => minimalTensorFile([2n ** 33n, 2n ** 33n, 3], 0)],
  ['a zero-element tensor with a huge dimension', () => minimalTensorFile([0, 2n ** 62n], 0), /more than the file can hold/],
  ['a tensor of a removed type (4)', () => minimalTensorFile([32], 4)],
  ['a tensor of type 9999', () => minimalTensorFile([32], 9999)],
  ['a q4_0 row that is not a whole block', () => minimalTensorFile([33], 2)],
  ['a misaligned tensor offset', () => minimalTensorFile([4], 0, 3)],
  ['a tensor past the end of the file', () => minimalTensorFile([64], 0), /larger than the file|past the end/],
  ['a tensor offset of 2^63', () => minimalTensorFile([4], 0, 2n ** 63n)],
  ['a tensor name of 200 bytes', () => new RawGguf().header(1, 0).tensorInfo('n'.repeat(200), [4], 0, 0).pad().bytes(Buffer.alloc(32)).build()],
  ['duplicate tensor names', () => new RawGguf().header(2, 0).tensorInfo('t', [8], 0, 0).tensorInfo('t', [8], 0, 32)
    .pad().bytes(Buffer.alloc(64)).build(), /duplicate/],
  ['overlapping tensors', () => new RawGguf().header(2, 0).tensorInfo('a', [16], 0, 0).tensorInfo('b', [16], 0, 32)
    .pad().bytes(Buffer.alloc(128)).build()],
];

describe('hostile GGUF files give ERR_MODEL_FORMAT without killing the process', () => {
  for (const [label, make, message] of cases) {
    it(label, async () => {
      const path = join(dir, `${label.replace(/[^a-z0-9]+/gi, '-')}.gguf`);
      writeFileSync(path, await make());
      const outcome = await readGgufIsolated(path);
      assert.equal(outcome.ok, false, `${label} was accepted`);
      assert.equal(outcome.code, 'ERR_MODEL_FORMAT', outcome.message);
      if (message) assert.match(outcome.message ?? '', message);
    });
  }

  it('accepts a tensor with zero dimensions as a one-element tensor, as ggml does', async () => {
    const path = join(dir, 'zero-dims.gguf');
    writeFileSync(path, minimalTensorFile([], 0));
    assert.deepEqual(await readGgufIsolated(path), { ok: true, tensors: 1, metadata: 0 });
  });

  it('every truncation of a valid file', async () => {
    const valid = await validFile();
    assert.equal((await readGgufIsolated(join(dir, 'valid.gguf'))).ok, true);
    // Every length inside the header and metadata, then a stride through the tensor data.
    const lengths = new Set<number>();
    for (let n = 0; n < valid.length; n += n < 200 ? 1 : 13) lengths.add(n);
    lengths.add(valid.length - 1);
    const paths = [...lengths].map((n) => {
      const path = join(dir, `truncated-${n}.gguf`);
      writeFileSync(path, valid.subarray(0, n));
      return { n, path };
    });
    // Batches keep two cores busy without spawning hundreds of processes at once.
    for (let i = 0; i < paths.length; i += 8) {
      const batch = paths.slice(i, i + 8);
      const outcomes = await Promise.all(batch.map(({ path }) => readGgufIsolated(path)));
      outcomes.forEach((outcome, j) => {
        assert.equal(outcome.code, 'ERR_MODEL_FORMAT', `truncated to ${batch[j]!.n} bytes: ${JSON.stringify(outcome)}`);
      });
    }
  });
});

describe('seeded mutations of a valid file', () => {
  it('300 bit flips, byte overwrites and splices each load correctly or give ERR_MODEL_FORMAT', async () => {
    const valid = await validFile();
    let state = 12345;
    const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
    const paths: string[] = [];
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(valid);
      const kind = i % 3;
      if (kind === 0) {
        const at = next() % bytes.length;
        bytes[at]! ^= 1 << (next() % 8);
      } else if (kind === 1) {
        // Overwrite 8 bytes (a count, length, dimension or offset field, often) with a random value.
        const at = next() % (bytes.length - 8);
        bytes.writeUInt32LE(next(), at);
        bytes.writeUInt32LE(next(), at + 4);
      } else {
        const at = next() % bytes.length;
        const cut = Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + 1 + (next() % 64)))]);
        bytes.fill(0);
        cut.copy(bytes);
        const path = join(dir, `mutant-${i}.gguf`);
        writeFileSync(path, cut);
        paths.push(path);
        continue;
      }
      const path = join(dir, `mutant-${i}.gguf`);
      writeFileSync(path, bytes);
      paths.push(path);
    }
    let accepted = 0;
    for (let i = 0; i < paths.length; i += 10) {
      const outcomes = await Promise.all(paths.slice(i, i + 10).map((path) => readGgufIsolated(path)));
      for (const outcome of outcomes) {
        if (outcome.ok) accepted += 1;
        else assert.equal(outcome.code, 'ERR_MODEL_FORMAT', outcome.message);
      }
    }
    assert.ok(accepted < paths.length, 'every mutant was accepted: the mutations did nothing');
  });
});

describe('readGgufInfo argument and file errors', () => {
  it('rejects a missing file with ERR_IO naming the path', async () => {
    const outcome = await readGgufIsolated(join(dir, 'does-not-exist.gguf'));
    assert.equal(outcome.code, 'ERR_IO');
    assert.match(outcome.message ?? '', /does-not-exist\.gguf.*No such file/);
  });

  it('rejects a directory with ERR_IO', async () => {
    const outcome = await readGgufIsolated(dir);
    assert.equal(outcome.code, 'ERR_IO');
    assert.match(outcome.message ?? '', /not a regular file/);
  });
});
