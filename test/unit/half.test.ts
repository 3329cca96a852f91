// f16 / bf16 <-> f32: exact widening, and narrowing with round-to-nearest-even at every boundary.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bf16BitsToFloat32, bf16BytesToFloat32, f16BitsToFloat32, f16BytesToFloat32, f32BytesToFloat32,
  float32ToF16Bits, float32ToF16Bytes,
} from '../../src/convert/half.js';

const isNaNBits = (bits: number) => (bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0;

describe('f16 conversion', () => {
  it('widens known bit patterns exactly', () => {
    assert.equal(f16BitsToFloat32(0x3c00), 1);
    assert.equal(f16BitsToFloat32(0xc000), -2);
    assert.equal(f16BitsToFloat32(0x7bff), 65504);
    assert.equal(f16BitsToFloat32(0x0400), 2 ** -14);
    assert.equal(f16BitsToFloat32(0x0001), 2 ** -24);
    assert.equal(f16BitsToFloat32(0x3555), 0.333251953125);
    assert.equal(f16BitsToFloat32(0x7c00), Infinity);
    assert.equal(f16BitsToFloat32(0xfc00), -Infinity);
    assert.ok(Object.is(f16BitsToFloat32(0x8000), -0));
    assert.ok(Number.isNaN(f16BitsToFloat32(0x7e00)));
  });

  it('narrows every f16 value back to itself (all 65,536 patterns)', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const back = float32ToF16Bits(f16BitsToFloat32(bits));
      if (isNaNBits(bits)) assert.ok(isNaNBits(back), `NaN 0x${bits.toString(16)} stays NaN`);
      else if (back !== bits) assert.fail(`0x${bits.toString(16)} came back as 0x${back.toString(16)}`);
    }
  });

  it('rounds halfway cases to even and everything else to nearest', () => {
    // Between consecutive finite positive f16 values (subnormals included), the midpoint is an
    // exact float32; it must go to the even neighbour, and a hair either side to the near one.
    for (let bits = 0; bits < 0x7bff; bits++) {
      const low = f16BitsToFloat32(bits);
      const high = f16BitsToFloat32(bits + 1);
      const mid = (low + high) / 2;
      const even = bits % 2 === 0 ? bits : bits + 1;
      if (float32ToF16Bits(mid) !== even) assert.fail(`midpoint above 0x${bits.toString(16)} rounded to 0x${float32ToF16Bits(mid).toString(16)}`);
      if (float32ToF16Bits(-mid) !== (even | 0x8000)) assert.fail(`negative midpoint above 0x${bits.toString(16)}`);
      const nudge = (high - low) / 1024;
      if (float32ToF16Bits(mid - nudge) !== bits || float32ToF16Bits(mid + nudge) !== bits + 1) {
        assert.fail(`values near the midpoint above 0x${bits.toString(16)} rounded the wrong way`);
      }
    }
  });

  it('handles the edges: overflow, underflow, infinities and NaN', () => {
    assert.equal(float32ToF16Bits(65504), 0x7bff);
    assert.equal(float32ToF16Bits(65519.99), 0x7bff); // below the midpoint to 65536
    assert.equal(float32ToF16Bits(65520), 0x7c00); // the midpoint rounds to even: infinity
    assert.equal(float32ToF16Bits(1e10), 0x7c00);
    assert.equal(float32ToF16Bits(-1e10), 0xfc00);
    assert.equal(float32ToF16Bits(Infinity), 0x7c00);
    assert.equal(float32ToF16Bits(2 ** -25), 0x0000); // half the smallest subnormal: ties to even zero
    assert.equal(float32ToF16Bits(2 ** -25 * 1.0001), 0x0001);
    assert.equal(float32ToF16Bits(2 ** -26), 0x0000);
    assert.equal(float32ToF16Bits(-(2 ** -30)), 0x8000);
    assert.equal(float32ToF16Bits(2 ** -14 - 2 ** -25), 0x0400); // rounds up from the largest subnormal
    assert.equal(float32ToF16Bits(1 + 2 ** -11), 0x3c00); // tie: 1 is even
    assert.equal(float32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie: up to the even neighbour
    assert.ok(isNaNBits(float32ToF16Bits(NaN)));
  });

  it('converts buffers in both directions', () => {
    const values = new Float32Array([0, -0, 1, -1.5, 0.1, 65504, 2 ** -24, -Infinity]);
    const bytes = float32ToF16Bytes(values);
    assert.equal(bytes.byteLength, 16);
    assert.deepEqual([...bytes.subarray(4, 6)], [0x00, 0x3c]); // little-endian 0x3c00
    assert.deepEqual([...f16BytesToFloat32(bytes)], [0, -0, 1, -1.5, 0.0999755859375, 65504, 2 ** -24, -Infinity]);
    // An odd byte offset cannot be viewed as 16-bit words: the copy path must give the same.
    const shifted = new Uint8Array(17);
    shifted.set(bytes, 1);
    assert.deepEqual([...f16BytesToFloat32(shifted.subarray(1))], [...f16BytesToFloat32(bytes)]);
  });
});

describe('bf16 and f32 reading', () => {
  it('widens bf16 as the top half of an f32', () => {
    assert.equal(bf16BitsToFloat32(0x3f80), 1);
    assert.equal(bf16BitsToFloat32(0xc040), -3);
    assert.equal(bf16BitsToFloat32(0x3dcc), 0.099609375);
    assert.equal(bf16BitsToFloat32(0x7f80), Infinity);
    assert.equal(bf16BitsToFloat32(0x0001), 2 ** -133);
    const bytes = new Uint8Array([0x80, 0x3f, 0x40, 0xc0, 0x80, 0xff]);
    assert.deepEqual([...bf16BytesToFloat32(bytes)], [1, -3, -Infinity]);
  });

  it('reads little-endian f32 from aligned and unaligned bytes', () => {
    const values = new Float32Array([1.25, -7, 3.4028234663852886e38]);
    const bytes = new Uint8Array(values.buffer);
    assert.deepEqual([...f32BytesToFloat32(bytes)], [...values]);
    const shifted = new Uint8Array(13);
    shifted.set(bytes, 1);
    assert.deepEqual([...f32BytesToFloat32(shifted.subarray(1))], [...values]);
  });
});
