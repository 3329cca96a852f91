// The safetensors writer and reader against each other, and the writer's layout against the
// reference implementation's byte format.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { float32ToF16Bytes } from '../../src/convert/half.js';
import { safetensorsLayout } from '../../src/convert/safetensors-format.js';
import { SafetensorsWriter } from '../../src/convert/safetensors-writer.js';
import { SafetensorsFile } from '../../src/convert/safetensors.js';
import { tempDir } from '../helpers/temp-dir.js';

const dir = tempDir();

function bf16Bytes(words: number[]): Uint8Array {
  const bytes = new Uint8Array(2 * words.length);
  words.forEach((w, i) => new DataView(bytes.buffer).setUint16(2 * i, w, true));
  return bytes;
}

describe('safetensors layout', () => {
  it('writes the reference format: sorted compact header, metadata first, space padding, contiguous data', () => {
    const layout = safetensorsLayout([
      { name: 'b', dtype: 'F16', shape: [3] },
      { name: 'a', dtype: 'F16', shape: [1, 2] },
    ]);
    const json = '{"__metadata__":{"format":"pt"},"a":{"dtype":"F16","shape":[1,2],"data_offsets":[0,4]},' +
      '"b":{"dtype":"F16","shape":[3],"data_offsets":[4,10]}}';
    const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
    assert.equal(Buffer.from(layout.header).toString('latin1'), padded);
    assert.equal(layout.header.length % 8, 0);
    assert.deepEqual(layout.tensors.map((t) => [t.name, t.begin, t.byteLength]), [['a', 0, 4], ['b', 4, 6]]);
    assert.equal(layout.fileByteLength, 8 + padded.length + 10);
  });

  it('orders names by code point, as Python and Rust do (blocks.10 before blocks.2)', () => {
    const layout = safetensorsLayout(['x.2', 'x.10', 'x.1', 'X', '_'].map((name) => ({ name, dtype: 'F32' as const, shape: [1] })));
    assert.deepEqual(layout.tensors.map((t) => t.name), ['X', '_', 'x.1', 'x.10', 'x.2']);
  });

  it('refuses duplicate names and bad shapes', () => {
    assert.throws(() => safetensorsLayout([{ name: 'a', dtype: 'F16', shape: [1] }, { name: 'a', dtype: 'F16', shape: [1] }]),
      { code: 'ERR_INVALID_ARGUMENT', message: /"a" is given twice/ });
    assert.throws(() => safetensorsLayout([{ name: 'a', dtype: 'F16', shape: [-1] }]), { code: 'ERR_INVALID_ARGUMENT' });
  });
});

describe('safetensors writer -> reader', () => {
  it('round-trips F16 exactly, F32 and BF16 values, metadata and shapes', async () => {
    const path = join(dir, 'mixed.safetensors');
    const f16Source = new Float32Array([0, -0, 1, -2.5, 0.1, 65504, 2 ** -24, 1e-8, 3.14159]);
    const f32Values = new Float32Array([1.5, -1e30, 7e-40, Math.PI]);
    const writer = await SafetensorsWriter.create(path, [
      { name: 'weights.half', dtype: 'F16', shape: [3, 3] },
      { name: 'weights.full', dtype: 'F32', shape: [2, 2] },
      { name: 'weights.brain', dtype: 'BF16', shape: [3] },
      { name: 'empty', dtype: 'F32', shape: [0, 5] },
      { name: 'scalar', dtype: 'F16', shape: [] },
    ], { format: 'pt', note: 'test' });
    assert.deepEqual(writer.order, ['empty', 'scalar', 'weights.brain', 'weights.full', 'weights.half']);
    await writer.writeTensor('empty', new Uint8Array(0));
    await writer.writeTensor('scalar', float32ToF16Bytes(new Float32Array([-3])));
    await writer.writeTensor('weights.brain', bf16Bytes([0x3f80, 0xc040, 0x3dcc]));
    await writer.writeTensor('weights.full', new Uint8Array(f32Values.buffer));
    const f16 = float32ToF16Bytes(f16Source);
    await writer.writeTensor('weights.half', [f16.subarray(0, 6), f16.subarray(6, 7), f16.subarray(7)]); // chunked
    await writer.finish();
    assert.deepEqual(await readdir(dir).then((names) => names.filter((n) => n.startsWith('mixed'))), ['mixed.safetensors']);

    const file = await SafetensorsFile.open(path);
    try {
      assert.deepEqual(file.metadata, { format: 'pt', note: 'test' });
      assert.deepEqual([...file.tensors.keys()], writer.order);
      assert.deepEqual(file.tensors.get('weights.half'), { dtype: 'F16', shape: [3, 3], byteLength: 18, begin: 24 });
      assert.deepEqual(file.tensors.get('scalar')?.shape, []);
      assert.deepEqual(await file.read('weights.half'), f16);
      const halves = await file.readAsFloat32('weights.half');
      assert.deepEqual([...halves], [0, -0, 1, -2.5, 0.0999755859375, 65504, 2 ** -24, 0, 3.140625]);
      assert.deepEqual(await file.readAsFloat32('weights.full'), f32Values);
      assert.deepEqual([...(await file.readAsFloat32('weights.brain'))], [1, -3, 0.099609375]);
      assert.deepEqual([...(await file.readAsFloat32('scalar'))], [-3]);
      assert.equal((await file.read('empty')).byteLength, 0);
      await assert.rejects(file.read('missing'), { code: 'ERR_INVALID_ARGUMENT', message: /"missing" is not in .*mixed\.safetensors/ });
    } finally {
      await file.close();
    }
    await assert.rejects(file.read('scalar'), { code: 'ERR_DISPOSED' });
    await file.close(); // twice is fine
  });

  it('writes a file python could read: the header length prefix and padding are right', async () => {
    const path = join(dir, 'prefix.safetensors');
    const writer = await SafetensorsWriter.create(path, [{ name: 't', dtype: 'F16', shape: [2] }]);
    await writer.writeTensor('t', float32ToF16Bytes(new Float32Array([1, 2])));
    await writer.finish();
    const bytes = readFileSync(path);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    assert.equal(headerLength % 8, 0);
    assert.equal(bytes.length, 8 + headerLength + 4);
    assert.match(bytes.subarray(8, 8 + headerLength).toString('utf8'), /^\{"__metadata__":\{"format":"pt"\},"t":.*\} *$/);
    assert.deepEqual([...bytes.subarray(8 + headerLength)], [0x00, 0x3c, 0x00, 0x40]);
  });

  it('refuses out-of-order tensors and wrong sizes, and leaves no partial file', async () => {
    const path = join(dir, 'bad.safetensors');
    const specs = [{ name: 'a', dtype: 'F16' as const, shape: [2] }, { name: 'b', dtype: 'F16' as const, shape: [2] }];
    let writer = await SafetensorsWriter.create(path, specs);
    await assert.rejects(writer.writeTensor('b', new Uint8Array(4)), { code: 'ERR_INVALID_ARGUMENT', message: /"a" must be written next/ });
    await assert.rejects(writer.writeTensor('a', new Uint8Array(3)), { code: 'ERR_INVALID_ARGUMENT', message: /needs 4 bytes but received 3/ });
    writer = await SafetensorsWriter.create(path, specs);
    await assert.rejects(writer.writeTensor('a', [new Uint8Array(4), new Uint8Array(2)]), { message: /needs 4 bytes but received more/ });
    writer = await SafetensorsWriter.create(path, specs);
    await writer.writeTensor('a', new Uint8Array(4));
    await assert.rejects(writer.finish(), { code: 'ERR_INVALID_ARGUMENT', message: /"b" was declared but never written/ });
    assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('bad')), []);
  });
});
