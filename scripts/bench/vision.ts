// The vision stage's input: the cost of an encode does not depend on the pixels.

/** Normalised CHW pixels of a smooth synthetic image. */
export function benchPixels(size = 378): Float32Array {
  const pixels = new Float32Array(3 * size * size);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.fround(Math.sin(i * 0.001) * 0.9);
  return pixels;
}
