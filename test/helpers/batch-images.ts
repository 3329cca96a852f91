// Folders of small generated images for the batch tests: seeded noise in PNG, JPEG and WebP,
// nested a few levels deep, plus the awkward cases a real dataset folder has (a text file, a
// truncated JPEG, an empty file, a dangling link, a duplicate under another name, a link loop).
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

export interface ImageTree {
  root: string;
  /** Paths of the generated images (the duplicate included), as the walker reports them. */
  images: string[];
  /** The duplicate's path and the path of the image it copies. */
  duplicate: { path: string; of: string };
  /** Files that are not images (or cannot be read), with the error code each must get. */
  broken: { path: string; code: string }[];
}

/** A deterministic 32-bit generator (LCG): the same seed, the same pixels. */
function noise(seed: number, length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export async function encodeNoise(seed: number, format: 'png' | 'jpeg' | 'webp', size = 32): Promise<Buffer> {
  const image = sharp(noise(seed, size * size * 3), { raw: { width: size, height: size, channels: 3 } });
  return format === 'png' ? image.png().toBuffer() : format === 'jpeg' ? image.jpeg({ quality: 90 }).toBuffer() : image.webp({ lossless: true }).toBuffer();
}

/**
 * `count` images under root/{a,b,c}/{x,y}/ (and a few at the top), plus the awkward files.
 * With `extras` false, only the images.
 */
export async function makeImageTree(root: string, count: number, options: { seed?: number; extras?: boolean } = {}): Promise<ImageTree> {
  const seed = options.seed ?? 1;
  const formats = ['png', 'jpeg', 'webp'] as const;
  const images: string[] = [];
  const folders = ['', 'a', 'a/x', 'a/y', 'b', 'b/x', 'c/x', 'c/y/z'];
  for (const folder of folders) await mkdir(join(root, folder), { recursive: true });
  for (let i = 0; i < count; i++) {
    const format = formats[i % formats.length]!;
    const path = join(root, folders[i % folders.length]!, `img-${String(i).padStart(3, '0')}.${format === 'jpeg' ? 'jpg' : format}`);
    await writeFile(path, await encodeNoise(seed * 100_003 + i, format));
    images.push(path);
  }
  const tree: ImageTree = { root, images, duplicate: { path: '', of: '' }, broken: [] };
  if (options.extras === false) return tree;

  const of = images[0]!;
  const duplicate = join(root, 'c/y/z', 'same-as-first.png');
  await copyFile(of, duplicate);
  images.push(duplicate);
  tree.duplicate = { path: duplicate, of };

  const text = join(root, 'a', 'notes.txt');
  await writeFile(text, 'not an image, just notes\n');
  const jpeg = await encodeNoise(seed + 7, 'jpeg', 64);
  const truncated = join(root, 'b', 'truncated.jpg');
  await writeFile(truncated, jpeg.subarray(0, jpeg.length >> 1));
  const empty = join(root, 'c', 'empty.png');
  await writeFile(empty, Buffer.alloc(0));
  const dangling = join(root, 'a', 'x', 'dangling.png');
  await symlink(join(root, 'does-not-exist.png'), dangling);
  tree.broken = [
    { path: text, code: 'ERR_IMAGE_DECODE' },
    { path: truncated, code: 'ERR_IMAGE_DECODE' },
    { path: empty, code: 'ERR_IMAGE_DECODE' },
    { path: dangling, code: 'ERR_IO' },
  ];
  // A loop: b/x/up -> b. The walker must see b's files once and not descend forever.
  await symlink('..', join(root, 'b', 'x', 'up'));
  return tree;
}
