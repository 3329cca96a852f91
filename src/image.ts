// Decodes images to raw 8-bit RGB the way moondream1's `PIL.Image.open(f).convert("RGB")` does
// (spec: tokenizer-and-preprocessing §4.4, every row of which was measured against Pillow):
// no EXIF rotation, embedded ICC profiles ignored, alpha dropped rather than composited,
// grey/palette expanded, 16-bit reduced to the high byte, CMYK by Pillow's formula, first frame.
import { stat } from 'node:fs/promises';
import { Duplex } from 'node:stream';
import type { Metadata, Sharp, SharpOptions } from 'sharp';
import { MoondreamError, invalidArgument } from './errors.js';

/** What an image can be given as: a file path, encoded bytes, or a sharp pipeline. */
export type ImageInput = string | Buffer | Uint8Array | ArrayBuffer | Sharp;

export interface DecodeImageOptions {
  /**
   * Largest width x height accepted, checked from the image header before any pixel is decoded,
   * so that a small file claiming a huge image (a decompression bomb) is refused cheaply. An
   * image narrower than the model's input (378 pixels for moondream1) counts as that wide, since
   * that is what resizing it costs.
   * Default: 100 megapixels.
   */
  maxPixels?: number;
}

export interface DecodedImage {
  /** width * height * 3 bytes, RGB, rows top to bottom. */
  data: Uint8Array;
  width: number;
  height: number;
}

export const DEFAULT_MAX_PIXELS = 100_000_000;

/** Side of moondream1's square vision input: preprocessImage's default (a model's own is md.info.vision.imageSize). */
export const VISION_IMAGE_SIZE = 378;

const SUPPORTED = 'JPEG, PNG, WebP, GIF, TIFF, AVIF and AV1-coded HEIF';
// sharp's metadata().format names; AVIF reports as 'heif' (with compression 'av1').
const SUPPORTED_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);

type SharpFactory = (input?: string | Buffer, options?: SharpOptions) => Sharp;

interface ResolvedOptions {
  maxPixels: number;
}

/** Validates decode options; unknown keys are left alone for callers that extend them. */
export function resolveDecodeOptions(options: unknown): ResolvedOptions {
  if (options === undefined) return { maxPixels: DEFAULT_MAX_PIXELS };
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw invalidArgument('options', 'an object or undefined', options);
  }
  const { maxPixels } = options as { maxPixels?: unknown };
  if (maxPixels !== undefined && (typeof maxPixels !== 'number' || !Number.isSafeInteger(maxPixels) || maxPixels < 1)) {
    throw invalidArgument('options.maxPixels', 'a positive integer', maxPixels);
  }
  return { maxPixels: maxPixels ?? DEFAULT_MAX_PIXELS };
}

/**
 * Decodes an image to raw RGB with PIL convert("RGB") semantics. `resizeSide` is the square the
 * image will be resized to, which sets what resizing a narrow image costs (see maxPixels).
 */
export async function decodeImage(input: ImageInput, options?: DecodeImageOptions, resizeSide = VISION_IMAGE_SIZE): Promise<DecodedImage> {
  const { maxPixels } = resolveDecodeOptions(options);
  const source = await resolveSource(input);
  const sharp = await loadSharp();
  // Only the header is read here; the pixel limit of this pass is off so that an oversized
  // image gets our message (with the numbers and the option to change) rather than sharp's.
  const metadata = await guard(source, () => open(sharp, source, false).metadata());
  checkFormat(source, metadata);
  checkSize(source, metadata, maxPixels, resizeSide);

  const pipeline = open(sharp, source, maxPixels);
  if (metadata.space === 'cmyk') {
    const { data, info } = await guard(source, () =>
      pipeline.pipelineColourspace('cmyk').toColourspace('cmyk').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true }));
    expectPixels(source, info, 4, data);
    return { data: cmykToRgb(data, info.width * info.height, info.channels), width: info.width, height: info.height };
  }
  const { data, info } = await guard(source, () =>
    pipeline
      .keepIccProfile()        // PIL ignores embedded profiles; sharp would convert to sRGB
      .removeAlpha()           // convert("RGB") drops alpha, keeping the colour under it
      .toColourspace('srgb')   // grey and palette to 3 channels; 16-bit to the high byte
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }));
  expectPixels(source, info, 3, data);
  return { data, width: info.width, height: info.height };
}

// ---- inputs -------------------------------------------------------------------------------------

type Source =
  | { kind: 'path'; path: string }
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'sharp'; instance: Sharp };

async function resolveSource(input: unknown): Promise<Source> {
  if (typeof input === 'string') {
    if (input.length === 0) throw invalidArgument('image', 'a non-empty file path', input);
    let isFile: boolean;
    try {
      isFile = (await stat(input)).isFile();
    } catch (error) {
      throw new MoondreamError('ERR_IO', `Cannot read the image file '${input}': ${(error as Error).message}`, { cause: error });
    }
    if (!isFile) throw new MoondreamError('ERR_IO', `The image path '${input}' is not a regular file`);
    return { kind: 'path', path: input };
  }
  if (input instanceof Uint8Array) {
    return { kind: 'bytes', bytes: nonEmpty(Buffer.from(input.buffer, input.byteOffset, input.byteLength)) };
  }
  if (input instanceof ArrayBuffer) return { kind: 'bytes', bytes: nonEmpty(Buffer.from(input)) };
  if (isSharpInstance(input)) return { kind: 'sharp', instance: input };
  throw invalidArgument('image', 'a file path, Buffer, Uint8Array, ArrayBuffer or sharp instance', input);
}

function nonEmpty(bytes: Buffer): Buffer {
  if (bytes.length === 0) throw new MoondreamError('ERR_IMAGE_DECODE', 'The image data is empty (0 bytes)');
  return bytes;
}

// sharp ships separate CommonJS and ES module builds, each with its own constructor, so
// `instanceof` fails for an instance made by the other build: recognise it by its shape.
function isSharpInstance(value: unknown): value is Sharp {
  if (!(value instanceof Duplex)) return false;
  const candidate = value as unknown as Record<string, unknown>;
  return typeof candidate.clone === 'function' && typeof candidate.metadata === 'function' &&
    typeof candidate.toBuffer === 'function' && typeof candidate.removeAlpha === 'function';
}

function describeSource(source: Source): string {
  switch (source.kind) {
    case 'path': return `'${source.path}'`;
    case 'bytes': return `a ${source.bytes.length}-byte buffer`;
    case 'sharp': return 'a sharp instance';
  }
}

let sharpModule: SharpFactory | undefined;

async function loadSharp(): Promise<SharpFactory> {
  if (sharpModule) return sharpModule;
  try {
    sharpModule = (await import('sharp')).default as unknown as SharpFactory;
  } catch (error) {
    throw new MoondreamError('ERR_NATIVE_ADDON',
      `sharp (the image decoder) could not be loaded: ${(error as Error).message}. ` +
      'Reinstall it with `npm install` so that npm fetches its prebuilt binaries for this platform.', { cause: error });
  }
  return sharpModule;
}

/** A fresh pipeline on the source; `limit` is sharp's limitInputPixels (false: none). */
function open(sharp: SharpFactory, source: Source, limit: number | false): Sharp {
  // pages: 1 is the first frame of an animation, as PIL's convert() uses; failOn 'error' rejects
  // truncated and broken data but, like PIL, accepts files that only make the decoder warn.
  const options: SharpOptions = { limitInputPixels: limit, failOn: 'error', pages: 1, page: 0 };
  switch (source.kind) {
    case 'path': return sharp(source.path, options);
    case 'bytes': return sharp(source.bytes, options);
    case 'sharp': return source.instance.clone();
  }
}

// ---- checks -------------------------------------------------------------------------------------

function checkFormat(source: Source, metadata: Metadata): void {
  const format = String(metadata.format);
  if (!SUPPORTED_FORMATS.has(format)) {
    throw new MoondreamError('ERR_IMAGE_DECODE',
      `The image (${describeSource(source)}) is in ${format.toUpperCase()} format, which is not supported. Supported formats: ${SUPPORTED}.`);
  }
  if (format === 'heif' && metadata.compression !== undefined && metadata.compression !== 'av1') {
    throw new MoondreamError('ERR_IMAGE_DECODE',
      `The image (${describeSource(source)}) is a HEIF image coded with ${String(metadata.compression).toUpperCase()}, which the ` +
      `bundled decoder cannot read (only AV1, i.e. AVIF). Convert it to JPEG or PNG first.`);
  }
}

function checkSize(source: Source, metadata: Metadata, maxPixels: number, resizeSide: number): void {
  const { width, height } = metadata;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new MoondreamError('ERR_IMAGE_DECODE', `The image (${describeSource(source)}) has no valid size in its header (${width}x${height})`);
  }
  if (width * height > maxPixels) {
    throw new MoondreamError('ERR_IMAGE_DECODE',
      `The image (${describeSource(source)}) is ${width}x${height} = ${width * height} pixels, more than the limit of ` +
      `${maxPixels} (options.maxPixels). Raise the limit if this image is trusted and memory allows.`);
  }
  // Pillow's resize (and so ours) widens every row to the output width (378 for moondream1)
  // before shrinking the columns, so a narrow image costs as much as a 378-wide one: a 1x10^7
  // strip is a 3.8-gigapixel job.
  const resizeCost = Math.max(width, resizeSide) * height;
  if (resizeCost > maxPixels) {
    throw new MoondreamError('ERR_IMAGE_DECODE',
      `The image (${describeSource(source)}) is ${width}x${height}: narrower than ${resizeSide} pixels, it is resized as ` +
      `${resizeSide}x${height} = ${resizeCost} pixels, more than the limit of ${maxPixels} (options.maxPixels). ` +
      'Raise the limit if this image is trusted.');
  }
}

function expectPixels(source: Source, info: { width: number; height: number; channels: number }, channels: number, data: Uint8Array): void {
  if (info.channels < channels || data.length !== info.width * info.height * info.channels) {
    throw new MoondreamError('ERR_IMAGE_DECODE',
      `The image (${describeSource(source)}) decoded to an unexpected layout (${info.width}x${info.height}, ${info.channels} channels, ` +
      `${data.length} bytes)`);
  }
}

/** Runs a sharp call and turns its failure into ERR_IMAGE_DECODE with a hint at the cause. */
async function guard<T>(source: Source, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof MoondreamError) throw error;
    const raw = error instanceof Error ? error.message : String(error);
    // libvips repeats itself and retries, one line each: keep the first few distinct lines.
    const lines = [...new Set(raw.split('\n').map((line) => line.trim()).filter(Boolean))];
    const detail = lines.slice(0, 3).join('; ').replace(/\.$/, '') + (lines.length > 3 ? ' (and more)' : '');
    let hint = 'The data is corrupt or not an image.';
    if (/unsupported image format/i.test(raw)) hint = `Supported formats: ${SUPPORTED}.`;
    else if (/premature end|truncat|end of file|unexpected end|read error/i.test(raw)) {
      hint = 'The data looks truncated or damaged: check that the whole file was written or downloaded.';
    } else if (/pixel limit/i.test(raw)) hint = 'Raise options.maxPixels if this image is trusted.';
    throw new MoondreamError('ERR_IMAGE_DECODE', `Could not decode ${describeSource(source)}: ${detail}. ${hint}`, { cause: error });
  }
}

// ---- colour -------------------------------------------------------------------------------------

/**
 * Pillow's CMYK to RGB, which ignores colour management: R = (255 - K) - C * (255 - K) / 255,
 * with Pillow's rounding of that product. Channels beyond the fourth (alpha) are dropped.
 */
export function cmykToRgb(cmyk: Uint8Array, pixels: number, channels: number): Uint8Array {
  const rgb = new Uint8Array(pixels * 3);
  for (let p = 0, i = 0, o = 0; p < pixels; p++, i += channels, o += 3) {
    const inkless = 255 - (cmyk[i + 3] ?? 0);
    rgb[o] = inkless - mulDiv255(cmyk[i] ?? 0, inkless);
    rgb[o + 1] = inkless - mulDiv255(cmyk[i + 1] ?? 0, inkless);
    rgb[o + 2] = inkless - mulDiv255(cmyk[i + 2] ?? 0, inkless);
  }
  return rgb;
}

/** a * b / 255 rounded to nearest, for a, b in 0..255, with integer operations only. */
function mulDiv255(a: number, b: number): number {
  const t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}
