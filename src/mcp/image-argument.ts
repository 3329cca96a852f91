// The `image` argument of the MCP tools: a file path, a data: URL, or bare base64. With a media
// folder set, paths must resolve (symlinks followed) inside it.
import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { MoondreamError } from '../errors.js';
import { decodeBase64 } from '../server/image-input.js';

export interface ImageArgumentPolicy {
  mediaDir: string | undefined;
  maxImageBytes: number;
}

const looksLikePath = (value: string) => isAbsolute(value) || value.startsWith('.') || /\.(png|jpe?g|webp|gif|tiff?|avif)$/i.test(value);

export async function loadImageArgument(value: string, policy: ImageArgumentPolicy): Promise<Buffer> {
  if (value.startsWith('data:')) {
    const comma = value.indexOf(',');
    if (comma < 0 || !value.slice(5, comma).split(';').includes('base64')) {
      throw new MoondreamError('ERR_INVALID_ARGUMENT', 'image is a data: URL without base64 data');
    }
    return sized(decodeOrThrow(value.slice(comma + 1)), policy);
  }
  if (looksLikePath(value)) return readPath(value, policy);
  return sized(decodeOrThrow(value), policy);
}

function decodeOrThrow(text: string): Buffer {
  try {
    return decodeBase64(text, 'image');
  } catch (error) {
    throw new MoondreamError('ERR_INVALID_ARGUMENT', `${(error as Error).message}, nor a path to an image file`);
  }
}

function sized(bytes: Buffer, policy: ImageArgumentPolicy): Buffer {
  if (bytes.length > policy.maxImageBytes) {
    throw new MoondreamError('ERR_INVALID_ARGUMENT', `image is ${bytes.length} bytes, more than the limit of ${policy.maxImageBytes}`);
  }
  return bytes;
}

async function readPath(path: string, policy: ImageArgumentPolicy): Promise<Buffer> {
  const full = policy.mediaDir !== undefined && !isAbsolute(path) ? resolve(policy.mediaDir, path) : resolve(path);
  let real: string;
  try {
    real = await realpath(full);
  } catch {
    throw new MoondreamError('ERR_IO', `image: no such file ${JSON.stringify(path)}`);
  }
  if (policy.mediaDir !== undefined) {
    const root = await realpath(policy.mediaDir);
    if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
      throw new MoondreamError('ERR_INVALID_ARGUMENT', `image ${JSON.stringify(path)} is outside the media folder`);
    }
  }
  const info = await stat(real);
  if (!info.isFile()) throw new MoondreamError('ERR_IO', `image ${JSON.stringify(path)} is not a regular file`);
  return sized(await readFile(real), policy);
}
