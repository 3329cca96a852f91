// One file from the hub to disk, resumable and verified while it streams.
//
// Bytes go to `<file>.incomplete`; only a file whose size and sha256 match the listing is renamed
// to its real name, so a file under its real name is always a verified one. An interruption
// (network, Ctrl-C) keeps the .incomplete file and the next attempt asks for the rest with
// `Range: bytes=N-`; a bad file (wrong size or digest) is deleted.
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { abortedError } from '../abort.js';
import { MoondreamError } from '../errors.js';
import { hubGet, networkError, statusError, type HubClient } from './http.js';
import { digestProblem, type RemoteFile } from './repo-files.js';

export interface DownloadRequest {
  client: HubClient;
  file: RemoteFile;
  url: string;
  /** Final path; the partial file is `${path}.incomplete`. */
  path: string;
  /** Called with byte counts as they land on disk (negative when a restart discards bytes). */
  onBytes: (delta: number) => void;
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** Feeds the bytes a previous attempt kept into the digest: one read of the prefix, not the file. */
async function hashPrefix(path: string, length: number, hash: Hash, signal: AbortSignal | undefined): Promise<void> {
  const stream = createReadStream(path, { start: 0, end: length - 1, ...(signal ? { signal } : {}) });
  for await (const chunk of stream) hash.update(chunk as Buffer);
}

/** Disk trouble (ENOSPC, EIO, ...) rather than network trouble: Node's fs errors name their syscall. */
function isFileSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/** The first byte of a 206's `Content-Range: bytes N-M/T`, when it covers the file to its end. */
function rangeStart(response: Response, size: number): number | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
  if (!match || Number(match[2]) !== size - 1 || (match[3] !== '*' && Number(match[3]) !== size)) return undefined;
  return Number(match[1]);
}

/** A response carrying bytes from `offset` on (206), or the whole file (200, offset 0). */
async function request(req: DownloadRequest, offset: number): Promise<{ response: Response; offset: number }> {
  const what = `Downloading ${req.file.name}`;
  if (offset > 0) {
    const response = await hubGet(req.client, req.url, { range: `bytes=${offset}-` });
    if (response.status === 206 && rangeStart(response, req.file.size) === offset) return { response, offset };
    if (response.status === 200) return { response, offset: 0 };  // Range ignored: start over
    // 416 or a range we did not ask for: the kept bytes are no use; ask for the whole file.
    if (response.status !== 416 && response.status !== 206) throw await statusError(req.client, response, what);
    await response.body?.cancel();
  }
  const response = await hubGet(req.client, req.url);
  if (response.status !== 200) throw await statusError(req.client, response, what);
  return { response, offset: 0 };
}

/** Appends the body to the partial file, hashing as it goes. Returns the partial file's new size. */
async function stream(req: DownloadRequest, response: Response, partial: string, offset: number, hash: Hash): Promise<number> {
  const { file } = req;
  if (!response.body) throw new MoondreamError('ERR_DOWNLOAD', `Downloading ${file.name}: the hub sent no body`);
  const handle = await open(partial, offset > 0 ? 'a' : 'w');
  let written = offset;
  try {
    for await (const chunk of response.body) {
      if (written + chunk.length > file.size) {
        throw new MoondreamError('ERR_DOWNLOAD', `Downloading ${file.name}: the hub sent more than the listed ${file.size} bytes`);
      }
      hash.update(chunk);
      await handle.write(chunk);
      written += chunk.length;
      req.onBytes(chunk.length);
    }
  } catch (error) {
    if (error instanceof MoondreamError) {
      await handle.close();
      await rm(partial, { force: true });
      throw error;
    }
    if (isFileSystemError(error)) {
      throw new MoondreamError('ERR_IO', `Cannot write ${partial}: ${error.message}`, { cause: error });
    }
    // The socket is gone (or was closed when the loop's exit cancelled the body); the bytes on
    // disk stay for a resume.
    throw networkError(req.client, error,
      `Downloading ${file.name} stopped after ${written} of ${file.size} bytes (run pull again to resume)`);
  } finally {
    await handle.close().catch(() => undefined);
  }
  return written;
}

/** Downloads `req.file` to `req.path` unless it is already there; throws with the partial file kept or removed as above. */
export async function downloadFile(req: DownloadRequest): Promise<void> {
  const { file, path } = req;
  if ((await sizeOf(path)) === file.size) {  // renamed into place only after verification
    req.onBytes(file.size);
    return;
  }
  const partial = `${path}.incomplete`;
  let offset = (await sizeOf(partial)) ?? 0;
  if (offset > file.size) {
    await rm(partial, { force: true });
    offset = 0;
  }
  let hash = createHash('sha256');
  if (offset > 0) {
    try {
      await hashPrefix(partial, offset, hash, req.client.signal);
    } catch (error) {
      if (req.client.signal?.aborted) throw abortedError();
      throw new MoondreamError('ERR_IO', `Cannot read ${partial}: ${(error as Error).message}`, { cause: error });
    }
    req.onBytes(offset);
  }

  let size = offset;
  if (offset < file.size) {
    const started = await request(req, offset);
    if (started.offset !== offset) {
      req.onBytes(-offset);
      hash = createHash('sha256');
    }
    size = await stream(req, started.response, partial, started.offset, hash);
  }
  if (size < file.size) {
    throw new MoondreamError('ERR_DOWNLOAD',
      `Downloading ${file.name}: the hub ended the file after ${size} of ${file.size} bytes (run pull again to resume)`);
  }
  const problem = digestProblem(file, size, hash.digest('hex'));
  if (problem) {
    await rm(partial, { force: true });
    throw new MoondreamError('ERR_DOWNLOAD', `Downloaded ${file.name} does not match the hub's listing (${problem}); the file was deleted`);
  }
  await rename(partial, path);
}
