// What a batch reads: folders (walked recursively), glob patterns, list files (one path a line)
// and single files, expanded into one ordered list of files. Every file is a candidate: images are
// told apart by their content later (sharp), so a folder's non-images become error lines, not
// silent gaps. Symbolic links are followed, and each real folder is walked once, so a link loop
// ends instead of hanging.
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join } from 'node:path';
import picomatch from 'picomatch';
import { abortedError } from '../abort.js';
import { MoondreamError } from '../errors.js';

export interface InputEntry {
  /** The file's path as found: relative inputs give relative paths. */
  path: string;
  /** Set when the entry cannot be read as a file at all (a socket, a folder that cannot be listed). */
  error?: { code: string; message: string };
}

/** Files named *.txt given as inputs are lists of paths, one a line ('#' starts a comment). */
const LIST_EXTENSION = '.txt';

interface Walk {
  /** Real folders already walked, as device:inode. */
  visited: Set<string>;
  seen: Set<string>;
  out: InputEntry[];
  match: ((path: string) => boolean) | undefined;
  signal: AbortSignal | undefined;
}

function push(walk: Walk, entry: InputEntry): void {
  if (walk.match && !walk.match(entry.path)) return;
  if (walk.seen.has(entry.path)) return;
  walk.seen.add(entry.path);
  walk.out.push(entry);
}

function ioError(path: string, error: unknown): { code: string; message: string } {
  return { code: 'ERR_IO', message: `Cannot read '${path}': ${(error as Error).message}` };
}

async function walkFolder(walk: Walk, dir: string): Promise<void> {
  if (walk.signal?.aborted) throw abortedError();
  let entries: Dirent[];
  try {
    const info = await stat(dir);
    const id = `${info.dev}:${info.ino}`;
    if (walk.visited.has(id)) return;
    walk.visited.add(id);
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    push(walk, { path: dir, error: ioError(dir, error) });
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      await walkFolder(walk, path);
    } else if (entry.isFile()) {
      push(walk, { path });
    } else if (entry.isSymbolicLink()) {
      let target;
      try {
        target = await stat(path);
      } catch (error) {
        push(walk, { path, error: ioError(path, error) });  // a dangling link
        continue;
      }
      if (target.isDirectory()) await walkFolder(walk, path);
      else if (target.isFile()) push(walk, { path });
      else push(walk, { path, error: notAFile(path) });
    } else {
      push(walk, { path, error: notAFile(path) });  // FIFOs and devices: reading one could block forever
    }
  }
}

function notAFile(path: string): { code: string; message: string } {
  return { code: 'ERR_IO', message: `'${path}' is not a regular file` };
}

async function readList(walk: Walk, listPath: string): Promise<void> {
  const base = dirname(listPath);
  const text = await readFile(listPath, 'utf8');
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    await addPath(walk, isAbsolute(line) ? line : join(base, line), false);
  }
}

async function addPath(walk: Walk, input: string, allowList: boolean): Promise<boolean> {
  let info;
  try {
    info = await stat(input);
  } catch {
    return false;
  }
  if (info.isDirectory()) await walkFolder(walk, input);
  else if (allowList && info.isFile() && extname(input).toLowerCase() === LIST_EXTENSION) await readList(walk, input);
  else if (info.isFile()) push(walk, { path: input });
  else push(walk, { path: input, error: notAFile(input) });
  return true;
}

/**
 * The files of `inputs` in a stable order (folders sorted by name, depth first), each path once.
 * An input that is neither a file, a folder nor a glob matching something is an ERR_IO error.
 */
export async function collectInputs(inputs: readonly string[], signal?: AbortSignal): Promise<InputEntry[]> {
  const walk: Walk = { visited: new Set(), seen: new Set(), out: [], match: undefined, signal };
  for (const input of inputs) {
    if (await addPath(walk, input, true)) continue;
    const pattern = input.replace(/^(\.\/)+/, '');  // walked paths come out normalised, without './'
    const scan = picomatch.scan(pattern);
    if (!scan.isGlob) throw new MoondreamError('ERR_IO', `The batch input '${input}' is not a file, a folder or a glob pattern`);
    const before = walk.out.length;
    // Its own set of walked folders (a folder walked for an earlier input may hold matches), the
    // same output and set of paths.
    await walkFolder({ ...walk, visited: new Set(), match: picomatch(pattern) }, scan.base === '' ? '.' : scan.base);
    // A glob that matches nothing is most likely a typo.
    if (walk.out.length === before) throw new MoondreamError('ERR_IO', `The batch input '${input}' matches no file`);
  }
  return walk.out;
}
