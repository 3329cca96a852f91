// The TypeScript GGUF writer, checked by ggml's own reader through the addon.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  GgufWriter, readGgufInfo, writeGguf, tensorByteSize,
  type GgufMetadataEntry, type GgmlTypeName,
} from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir();
let counter = 0;
const nextPath = () => join(dir, `file-${counter++}.gguf`);

const EVERY_SCALAR: GgufMetadataEntry[] = [
  { key: 'test.uint8', type: 'uint8', value: 255 },
  { key: 'test.int8', type: 'int8', value: -128 },
  { key: 'test.uint16', type: 'uint16', value: 65535 },
  { key: 'test.int16', type: 'int16', value: -32768 },
  { key: 'test.uint32', type: 'uint32', value: 4294967295 },
  { key: 'test.int32', type: 'int32', value: -2147483648 },
  { key: 'test.float32', type: 'float32', value: Math.fround(3.14159) },
  { key: 'test.float64', type: 'float64', value: 1 / 3 },
  { key: 'test.bool.true', type: 'bool', value: true },
  { key: 'test.bool.false', type: 'bool', value: false },
  { key: 'test.string', type: 'string', value: 'moondream ☾ — 月 🌙' },
  { key: 'test.string.empty', type: 'string', value: '' },
  { key: 'test.uint64', type: 'uint64', value: 18446744073709551615n },
  { key: 'test.int64', type: 'int64', value: -9223372036854775808n },
];

const EVERY_ARRAY: GgufMetadataEntry[] = [
  { key: 'arr.uint8', type: 'array', itemType: 'uint8', value: [0, 1, 255] },
  { key: 'arr.int8', type: 'array', itemType: 'int8', value: [-128, 0, 127] },
  { key: 'arr.uint16', type: 'array', itemType: 'uint16', value: [0, 65535] },
  { key: 'arr.int16', type: 'array', itemType: 'int16', value: [-32768, 32767] },
  { key: 'arr.uint32', type: 'array', itemType: 'uint32', value: [27, 4294967295] },
  { key: 'arr.int32', type: 'array', itemType: 'int32', value: [27, -1] },
  { key: 'arr.float32', type: 'array', itemType: 'float32', value: [0.5, -0.5, Math.fround(0.1)] },
  { key: 'arr.float64', type: 'array', itemType: 'float64', value: [Math.PI, -0, 1e300] },
  { key: 'arr.bool', type: 'array', itemType: 'bool', value: [true, false, true] },
  { key: 'arr.string', type: 'array', itemType: 'string', value: ['Ġthe', '', 'é', '<|endoftext|>', 'Ċ'] },
  { key: 'arr.uint64', type: 'array', itemType: 'uint64', value: [0n, 18446744073709551615n] },
  { key: 'arr.int64', type: 'array', itemType: 'int64', value: [-9223372036854775808n, 9223372036854775807n] },
  { key: 'arr.empty.uint32', type: 'array', itemType: 'uint32', value: [] },
  { key: 'arr.empty.string', type: 'array', itemType: 'string', value: [] },
];

function seededBytes(length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13; state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5; state >>>= 0;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

describe('GGUF writer -> ggml reader round trip', () => {
  it('keeps every scalar type, value and key order', async () => {
    const path = nextPath();
    await writeGguf(path, EVERY_SCALAR, []);
    const info = await readGgufInfo(path);
    assert.equal(info.version, 3);
    assert.deepEqual(info.metadata, EVERY_SCALAR);
    assert.deepEqual(info.tensors, []);
  });

  it('keeps arrays of every element type, empty arrays included', async () => {
    const path = nextPath();
    await writeGguf(path, EVERY_ARRAY, []);
    const info = await readGgufInfo(path);
    assert.deepEqual(info.metadata, EVERY_ARRAY);
  });

  it('writes an empty file (no metadata, no tensors) that ggml accepts', async () => {
    const path = nextPath();
    await writeGguf(path, [], []);
    const info = await readGgufInfo(path);
    assert.deepEqual({ ...info, fileSize: undefined }, {
      version: 3, alignment: 32, dataOffset: 24, fileSize: undefined, metadata: [], tensors: [],
    });
    assert.equal(readFileSync(path).length, 24);
  });

  it('keeps a tokenizer-sized string array (51,200 entries)', async () => {
    const tokens = Array.from({ length: 51200 }, (_, i) => (i % 7 === 0 ? `[PAD${i}]` : `tok${i}Ġ`));
    const path = nextPath();
    await writeGguf(path, [{ key: 'tokenizer.ggml.tokens', type: 'array', itemType: 'string', value: tokens }], []);
    const info = await readGgufInfo(path);
    assert.deepEqual(info.metadata[0]?.value, tokens);
  });

  const tensorCases: { name: string; type: GgmlTypeName; shape: number[]; expectedShape?: number[] }[] = [
    { name: 'a.f32', type: 'f32', shape: [5] },
    { name: 'b.f16', type: 'f16', shape: [3, 2] },
    { name: 'c.q8_0', type: 'q8_0', shape: [64, 3] },
    { name: 'd.q4_0', type: 'q4_0', shape: [32, 1, 1], expectedShape: [32] },
    { name: 'e.q6_K', type: 'q6_K', shape: [256, 2, 3, 2] },
    { name: 'f.bf16', type: 'bf16', shape: [7, 1, 3] },
  ];

  for (const alignment of [32, 8, 64, 256]) {
    it(`places tensors at ${alignment}-byte aligned offsets with their exact bytes`, async () => {
      const path = nextPath();
      const tensors = tensorCases.map((t, i) => ({ ...t, data: seededBytes(tensorByteSize(t.type, t.shape), i + 1) }));
      await writeGguf(path, [{ key: 'general.name', type: 'string', value: 'aligned' }], tensors, { alignment });
      const info = await readGgufInfo(path);
      assert.equal(info.alignment, alignment);
      if (alignment !== 32) {
        assert.deepEqual(info.metadata.at(-1), { key: 'general.alignment', type: 'uint32', value: alignment });
      }
      assert.equal(info.dataOffset % alignment, 0);
      const bytes = readFileSync(path);
      assert.equal(bytes.length % alignment, 0);
      assert.equal(info.tensors.length, tensors.length);
      info.tensors.forEach((read, i) => {
        const written = tensors[i]!;
        assert.equal(read.name, written.name);
        assert.equal(read.type, written.type);
        assert.deepEqual(read.shape, written.expectedShape ?? written.shape);
        assert.equal(read.size, written.data.length);
        assert.equal(read.offset % alignment, 0);
        const start = info.dataOffset + read.offset;
        assert.deepEqual(new Uint8Array(bytes.subarray(start, start + read.size)), written.data);
      });
    });
  }
});

describe('GGUF writer input checks', () => {
  const invalid: [string, GgufMetadataEntry[]][] = [
    ['uint8 out of range', [{ key: 'k', type: 'uint8', value: 256 }]],
    ['negative uint32', [{ key: 'k', type: 'uint32', value: -1 }]],
    ['fractional int32', [{ key: 'k', type: 'int32', value: 1.5 }]],
    ['uint64 above 2^64-1', [{ key: 'k', type: 'uint64', value: 2n ** 64n }]],
    ['string given a number', [{ key: 'k', type: 'string', value: 5 as unknown as string }]],
    ['nested array', [{ key: 'k', type: 'array', itemType: 'array' as 'uint8', value: [] }]],
    ['empty key', [{ key: '', type: 'bool', value: true }]],
    ['duplicate key', [{ key: 'k', type: 'bool', value: true }, { key: 'k', type: 'bool', value: false }]],
    ['unknown type', [{ key: 'k', type: 'uint128' as 'uint8', value: 1 }]],
  ];
  for (const [label, metadata] of invalid) {
    it(`rejects ${label} with ERR_INVALID_ARGUMENT and writes nothing`, async () => {
      const path = nextPath();
      await assert.rejects(writeGguf(path, metadata, []), { name: 'MoondreamError', code: 'ERR_INVALID_ARGUMENT' });
      assert.equal(existsSync(path), false);
      assert.equal(existsSync(`${path}.partial`), false);
    });
  }

  it('rejects tensors whose shape does not fit their type', async () => {
    for (const shape of [[31], [0, 2], [1, 2, 3, 4, 5], [1.5]]) {
      await assert.rejects(writeGguf(nextPath(), [], [{ name: 't', type: 'q4_0', shape, data: new Uint8Array(0) }]),
        { code: 'ERR_INVALID_ARGUMENT' });
    }
  });

  it('rejects data of the wrong length, and abort() leaves no file behind', async () => {
    const path = nextPath();
    const writer = await GgufWriter.create(path, [], [{ name: 't', type: 'f32', shape: [4] }]);
    await assert.rejects(writer.writeTensor('t', new Uint8Array(15)), /needs 16 bytes but received 15/);
    await writer.abort();
    assert.equal(existsSync(path), false);
    assert.equal(existsSync(`${path}.partial`), false);
  });

  it('only publishes the file under its name once finish() succeeds', async () => {
    const path = nextPath();
    const writer = await GgufWriter.create(path, [], [{ name: 't', type: 'f32', shape: [4] }]);
    assert.equal(existsSync(path), false);
    await assert.rejects(writer.finish(), /declared but never written/);
    assert.equal(existsSync(path), false);
    assert.equal(existsSync(`${path}.partial`), false);
  });

  it('rejects an alignment that is not a power of two', async () => {
    await assert.rejects(writeGguf(nextPath(), [], [], { alignment: 48 }), { code: 'ERR_INVALID_ARGUMENT' });
  });
});
