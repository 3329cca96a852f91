// Image references from requests to bytes: data: URLs and bare base64 always; file:// only under
// --media-dir (after resolving symlinks, so no path escapes it); http(s) only with
// --allow-remote-images, since fetching would let any caller make the server reach any URL.
import { realpath, readFile, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { badRequest, HttpError } from './http-error.js';

export interface ImagePolicy {
  mediaDir: string | undefined;
  allowRemoteImages: boolean;
  /** Largest image in bytes (decoded). */
  maxImageBytes: number;
  remoteTimeoutMs: number;
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Strict base64 (standard or URL alphabet, optional padding, whitespace ignored). */
export function decodeBase64(text: string, what: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (compact.length === 0) throw badRequest(`${what} is empty`);
  if (!BASE64.test(compact) || compact.length % 4 === 1) {
    throw badRequest(`${what} is not valid base64 (expected a data:image/...;base64, URL or base64 image bytes)`);
  }
  return Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64');
}

export async function loadImageReference(reference: string, policy: ImagePolicy, what: string, signal?: AbortSignal): Promise<Buffer> {
  if (reference.startsWith('data:')) {
    const comma = reference.indexOf(',');
    const header = comma < 0 ? '' : reference.slice(5, comma);
    if (comma < 0 || !header.split(';').includes('base64')) {
      throw badRequest(`${what} is a data: URL without base64 data (expected data:image/...;base64,...)`);
    }
    return checkSize(decodeBase64(reference.slice(comma + 1), what), policy, what);
  }
  if (/^https?:\/\//i.test(reference)) {
    if (!policy.allowRemoteImages) {
      throw badRequest(`${what} is a remote URL, but this server does not fetch remote images (start it with --allow-remote-images); send the image as a data: URL`);
    }
    return fetchRemote(reference, policy, what, signal);
  }
  if (reference.startsWith('file:')) return readMediaFile(reference, policy, what);
  return checkSize(decodeBase64(reference, what), policy, what);
}

function checkSize(bytes: Buffer, policy: ImagePolicy, what: string): Buffer {
  if (bytes.length > policy.maxImageBytes) throw new HttpError(413, `${what} is ${bytes.length} bytes, more than the limit of ${policy.maxImageBytes}`);
  return bytes;
}

async function readMediaFile(reference: string, policy: ImagePolicy, what: string): Promise<Buffer> {
  if (policy.mediaDir === undefined) throw badRequest(`${what} is a file:// URL, but this server has no --media-dir`);
  let path: string;
  try {
    path = fileURLToPath(reference);
  } catch {
    throw badRequest(`${what} is not a valid file:// URL`);
  }
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw new HttpError(404, `${what}: no such file under the media directory`, 'not_found_error');
  }
  const root = await realpath(policy.mediaDir);
  if (real !== root && !real.startsWith(root.endsWith(sep) ? root : root + sep)) {
    throw new HttpError(403, `${what} is outside the media directory`, 'invalid_request_error');
  }
  const info = await stat(real);
  if (!info.isFile()) throw badRequest(`${what} is not a regular file`);
  if (info.size > policy.maxImageBytes) throw new HttpError(413, `${what} is ${info.size} bytes, more than the limit of ${policy.maxImageBytes}`);
  return readFile(real);
}

async function fetchRemote(url: string, policy: ImagePolicy, what: string, signal?: AbortSignal): Promise<Buffer> {
  const timeout = AbortSignal.timeout(policy.remoteTimeoutMs);
  const response = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'follow' })
    .catch((error: unknown) => {
      throw badRequest(`${what}: fetching ${url} failed (${error instanceof Error ? error.message : String(error)})`);
    });
  if (!response.ok || !response.body) throw badRequest(`${what}: fetching ${url} returned HTTP ${response.status}`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.byteLength;
    if (total > policy.maxImageBytes) throw new HttpError(413, `${what} at ${url} is larger than the limit of ${policy.maxImageBytes} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** The conversation's image: the first reference; any others must be the same bytes. */
export async function loadConversationImage(
  references: readonly string[], policy: ImagePolicy, param: string, imageHash: (bytes: Uint8Array) => string, signal?: AbortSignal,
): Promise<{ bytes: Buffer; hash: string }> {
  const bytes = await loadImageReference(references[0]!, policy, `${param} image 1`, signal);
  const hash = imageHash(bytes);
  for (let i = 1; i < references.length; i++) {
    if (references[i] === references[0]) continue;
    const other = imageHash(await loadImageReference(references[i]!, policy, `${param} image ${i + 1}`, signal));
    if (other !== hash) {
      throw badRequest(`moondream1 sees one image per conversation, and this one has ${references.length} different images; ask about each in its own request`, param, 'too_many_images');
    }
  }
  return { bytes, hash };
}
