// IEEE half (f16) and bfloat16 <-> float32, bit-exact. Checkpoints store F16 (moondream1) or BF16
// (other exports); the converter widens them to f32 exactly, and the checkpoint generator narrows
// f32 to f16 with round-to-nearest-even, the rounding torch's `.half()` uses.

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** True on little-endian hosts, where typed-array views read the files' little-endian data directly. */
export const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The float32 value of the f16 bit pattern `bits` (0..0xffff). Exact: every f16 is a float32. */
export function f16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero or subnormal
  if (exponent === 0x1f) {
    if (mantissa === 0) return sign * Infinity;
    // Keep the NaN's sign and payload: widening moves the 10 payload bits to the top of f32's 23.
    scratchU32[0] = ((bits & 0x8000) << 16) | 0x7f800000 | (mantissa << 13);
    return scratchF32[0]!;
  }
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** The float32 value of the bfloat16 bit pattern `bits`: bf16 is the top half of an f32. */
export function bf16BitsToFloat32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0]!;
}

/** The f16 bit pattern nearest to `value` (after rounding it to float32), ties to even. */
export function float32ToF16Bits(value: number): number {
  scratchF32[0] = value;
  return f32BitsToF16Bits(scratchU32[0]!);
}

function f32BitsToF16Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  const mantissa = x & 0x7fffff;
  if (exponent === 0xff) {
    // Infinity stays infinity; a NaN keeps its top payload bits and is forced quiet so that a
    // payload living only in the dropped low bits cannot turn it into infinity.
    return mantissa === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mantissa >>> 13);
  }
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // beyond f16's range: infinity
  if (halfExponent <= 0) {
    // An f16 subnormal counts units of 2^-24: shift the 24-bit significand into those units.
    const shift = 14 - halfExponent;
    if (shift > 24) return sign; // below half the smallest subnormal: rounds to zero
    const significand = mantissa | 0x800000;
    let half = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const midpoint = 1 << (shift - 1);
    if (rest > midpoint || (rest === midpoint && (half & 1) === 1)) half += 1; // may become the smallest normal: still right
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1; // a carry into the exponent is correct, up to infinity
  return sign | half;
}

let f16Table: Float32Array | undefined;

/** All 65,536 f16 values as float32, built on first use: a lookup is faster than decoding. */
function f16ToFloat32Table(): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(0x10000);
    for (let bits = 0; bits < 0x10000; bits++) f16Table[bits] = f16BitsToFloat32(bits);
  }
  return f16Table;
}

/** 16-bit little-endian words of `bytes` (even length), without copying when the host allows. */
function littleEndianU16(bytes: Uint8Array): Uint16Array {
  const count = bytes.byteLength >>> 1;
  if (HOST_IS_LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, count);
  const words = new Uint16Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) words[i] = view.getUint16(2 * i, true);
  return words;
}

/** Widens little-endian f16 data to float32, exactly. */
export function f16BytesToFloat32(bytes: Uint8Array): Float32Array {
  const table = f16ToFloat32Table();
  const words = littleEndianU16(bytes);
  const out = new Float32Array(words.length);
  for (let i = 0; i < words.length; i++) out[i] = table[words[i]!]!;
  return out;
}

/** Widens little-endian bf16 data to float32, exactly (NaN payloads included). */
export function bf16BytesToFloat32(bytes: Uint8Array): Float32Array {
  const words = littleEndianU16(bytes);
  const out = new Float32Array(words.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < words.length; i++) outBits[i] = words[i]! << 16;
  return out;
}

/** Reads little-endian f32 data (a length that is a multiple of 4) as float32. */
export function f32BytesToFloat32(bytes: Uint8Array): Float32Array {
  const count = bytes.byteLength >>> 2;
  if (HOST_IS_LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, count);
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

/** Narrows float32 values to little-endian f16 bytes, round-to-nearest-even. */
export function float32ToF16Bytes(values: Float32Array): Uint8Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const words = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) words[i] = f32BitsToF16Bits(bits[i]!);
  const bytes = new Uint8Array(words.buffer);
  if (!HOST_IS_LITTLE_ENDIAN) {
    for (let i = 0; i < bytes.length; i += 2) {
      const low = bytes[i]!;
      bytes[i] = bytes[i + 1]!;
      bytes[i + 1] = low;
    }
  }
  return bytes;
}
