// Broken and hostile safetensors files: each must be refused on open with ERR_MODEL_FORMAT and a
// one-line message that names the file and the problem (and the tensor, where there is one).
import assert from 'node:assert/strict';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SafetensorsFile } from '../../src/convert/safetensors.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir();

/** An 8-byte little-endian length (the header's, unless overridden), the header, then the data. */
function rawFile(header: string | Uint8Array, data: Uint8Array | number = 0, declaredLength?: bigint): Buffer {
  const headerBytes = typeof header === 'string' ? Buffer.from(header, 'utf8') : Buffer.from(header);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(declaredLength ?? BigInt(headerBytes.length));
  return Buffer.concat([prefix, headerBytes, typeof data === 'number' ? Buffer.alloc(data) : data]);
}

const entry = (dtype: string, shape: unknown, offsets: unknown) => ({ dtype, shape, data_offsets: offsets });
const header = (tensors: Record<string, unknown>) => JSON.stringify({ __metadata__: { format: 'pt' }, ...tensors });

const cases: [string, () => Buffer, RegExp][] = [
  ['an empty file', () => Buffer.alloc(0), /0 bytes, too short for the 8-byte header length/],
  ['a header length beyond the file', () => rawFile('{}', 0, 1000n), /header length 1000 exceeds the 2 bytes after it/],
  ['a header length of 2^64-1', () => rawFile('{}', 0, 2n ** 64n - 1n), /header length 18446744073709551615 exceeds/],
  ['a header that is not JSON', () => rawFile('{"a": {"dtype": "F16",'), /header is not JSON/],
  ['a header that is a JSON array', () => rawFile('[1, 2]'), /header is not a JSON object/],
  ['a header that is not UTF-8', () => rawFile(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), /header is not valid UTF-8/],
  ['a tensor of dtype I8', () => rawFile(header({ 'layer.weight': entry('I8', [4], [0, 4]) }), 4),
    /tensor "layer\.weight" has dtype I8, which is not supported \(expected F32, F16 or BF16\)/],
  ['a tensor of dtype F64', () => rawFile(header({ ok: entry('F16', [1], [0, 2]), 'big.bias': entry('F64', [1], [2, 10]) }), 10),
    /tensor "big\.bias" has dtype F64/],
  ['a tensor without a dtype', () => rawFile(header({ t: { shape: [1], data_offsets: [0, 2] } }), 2), /tensor "t" has no dtype string/],
  ['a tensor described by a number', () => rawFile(header({ t: 5 }), 0), /tensor "t" is described by 5, not an object/],
  ['a negative dimension', () => rawFile(header({ t: entry('F16', [2, -1], [0, 2]) }), 2), /tensor "t" has shape \[2,-1\], not a list of non-negative integers/],
  ['a fractional dimension', () => rawFile(header({ t: entry('F16', [1.5], [0, 3]) }), 3), /tensor "t" has shape \[1\.5\]/],
  ['a shape that is a string', () => rawFile(header({ t: entry('F16', '2x2', [0, 8]) }), 8), /tensor "t" has shape "2x2"/],
  ['a shape too large to address', () => rawFile(header({ t: entry('F32', [2 ** 30, 2 ** 30, 2 ** 30], [0, 8]) }), 8), /too large to address/],
  ['data_offsets with one number', () => rawFile(header({ t: entry('F16', [1], [0]) }), 2), /tensor "t" has data_offsets \[0\], not a pair/],
  ['data_offsets backwards', () => rawFile(header({ t: entry('F16', [1], [2, 0]) }), 2), /tensor "t" has data_offsets \[2,0\], not a pair \[begin, end\] with begin <= end/],
  ['a shape that does not match the offsets', () => rawFile(header({ w: entry('F16', [2, 3], [0, 10]) }), 12),
    /tensor "w" \(F16, shape \[2, 3\]\) needs 12 bytes but its data_offsets \[0, 10\] span 10/],
  ['offsets past the end (a truncated file)', () => rawFile(header({ a: entry('F32', [4], [0, 16]), b: entry('F32', [4], [16, 32]) }), 20),
    /tensor "b" has data_offsets \[16, 32\] past the end of the 20-byte data section \(is the file truncated\?\)/],
  ['overlapping offsets', () => rawFile(header({ first: entry('F16', [4], [0, 8]), second: entry('F16', [4], [6, 14]) }), 14),
    /tensors "first" \[0, 8\] and "second" \[6, 14\] overlap/],
  ['two tensors on the same bytes', () => rawFile(header({ a: entry('F16', [2], [4, 8]), b: entry('F16', [2], [4, 8]) }), 8), /"a" \[4, 8\] and "b" \[4, 8\] overlap/],
  ['metadata that is not a string map', () => rawFile(JSON.stringify({ __metadata__: { format: 1 } })), /"__metadata__" is not a map of strings/],
];

describe('hostile safetensors files', () => {
  for (const [what, build, message] of cases) {
    it(`refuses ${what}`, async () => {
      const path = join(dir, 'hostile.safetensors');
      writeFileSync(path, build());
      await assert.rejects(SafetensorsFile.open(path), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_MODEL_FORMAT', error.message);
        assert.match(error.message, message);
        assert.ok(error.message.startsWith(`Invalid safetensors file ${path}: `), error.message);
        assert.ok(!error.message.includes('\n'), 'one line');
        return true;
      });
    });
  }

  it('refuses a header length over 100 MB even when the file is that large', async () => {
    const path = join(dir, 'huge-header.safetensors');
    const fd = openSync(path, 'w');
    try {
      writeSync(fd, rawFile('{}', 0, 100_000_001n).subarray(0, 8));
      writeSync(fd, Buffer.from(' '), 0, 1, 100_000_008); // sparse: the file is 100 MB without writing it
    } finally {
      closeSync(fd);
    }
    await assert.rejects(SafetensorsFile.open(path), { code: 'ERR_MODEL_FORMAT', message: /header length 100000001 is beyond the 100000000-byte limit/ });
  });

  it('accepts empty tensors anywhere, and a file without metadata or tensors', async () => {
    const path = join(dir, 'edge.safetensors');
    writeFileSync(path, rawFile(JSON.stringify({ z: entry('F16', [0], [2, 2]), a: entry('F16', [1], [0, 2]) }), 2));
    const file = await SafetensorsFile.open(path);
    assert.deepEqual([...file.tensors.keys()], ['a', 'z']);
    assert.deepEqual(file.metadata, {});
    await file.close();
    writeFileSync(path, rawFile('{}  '));
    const empty = await SafetensorsFile.open(path);
    assert.equal(empty.tensors.size, 0);
    await empty.close();
  });

  it('gives ERR_IO for a file that cannot be opened', async () => {
    const path = join(dir, 'does-not-exist.safetensors');
    await assert.rejects(SafetensorsFile.open(path), { code: 'ERR_IO', message: new RegExp(`Cannot open safetensors file ${path}: .*ENOENT`) });
    await assert.rejects(SafetensorsFile.open(dir), { code: 'ERR_IO' }); // a directory
  });
});
