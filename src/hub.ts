// `pull`: vikhyatk/moondream1 from the Hugging Face hub, at a pinned revision, converted once into
// the cache as the GGUF pair that Moondream.load() and `ask` use.
//
// Cache layout (one folder per source commit):
//   ${XDG_CACHE_HOME or ~/.cache}/moondream-ggml/models/moondream1-<commit7>/
//     moondream1-text-model-<type>.gguf   moondream1-mmproj-<vtype>.gguf   (exactly one pair)
//     hf/   model.safetensors tokenizer.json config.json generation_config.json (kept unless pruned)
//
// Plain fetch rather than @huggingface/hub: we need a byte stream we can hash and append to a
// partial file with our own Range/resume rules, which is a few lines over fetch and not what the
// hub library's download helpers are shaped for; and it costs no dependency.
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { abortedError } from './abort.js';
import { convertCheckpoint, outputFileNames } from './convert/convert.js';
import { MOONDREAM1_LICENSE, MOONDREAM1_REVISION } from './convert/profile.js';
import { TEXT_TYPES, VISION_TYPES, type TextType, type VisionType } from './convert/quant-types.js';
import { invalidArgument } from './errors.js';
import { defaultCacheDir, hfDirFor, modelDirFor } from './hub/cache-dir.js';
import { downloadFile } from './hub/download.js';
import { acquirePullLock } from './hub/pull-lock.js';
import type { HubClient } from './hub/http.js';
import { fetchRevisionListing, isCommitId, resolveUrl } from './hub/repo-files.js';
import { modelFileKind } from './model-file-names.js';
import { resolveModelFiles, type ModelFiles } from './model-files.js';

export { MOONDREAM1_REPO } from './hub/repo-files.js';

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';

export type PullProgress =
  /** Bytes on disk over all four files (resumed bytes count from the start). */
  | { phase: 'download'; file: string; done: number; total: number }
  /** Tensors converted over both GGUF files. */
  | { phase: 'convert'; tensor: string; done: number; total: number }
  /** Another process is pulling the same model into this cache: milliseconds waited so far. */
  | { phase: 'wait'; done: number; total: 0 };

export interface PullOptions {
  /** A commit id (default: the pinned MOONDREAM1_REVISION), or a branch/tag the hub resolves. */
  revision?: string;
  /** Text model type (default q4_0). */
  textType?: TextType;
  /** Vision model type (default f16). */
  visionType?: VisionType;
  /** Default: HF_ENDPOINT, else https://huggingface.co. */
  endpoint?: string;
  /** Default: HF_TOKEN. An empty string sends no token. */
  token?: string;
  /** The package cache root (default: ${XDG_CACHE_HOME or ~/.cache}/moondream-ggml). */
  cacheDir?: string;
  /** Delete the downloaded Hugging Face files after converting (default: keep them). */
  prune?: boolean;
  /** Stops the download (the partial file is kept for a resume) or the conversion. */
  signal?: AbortSignal;
  onProgress?: (progress: PullProgress) => void;
}

export interface PulledModel {
  /** The model folder; Moondream.load(dir) loads it. */
  dir: string;
  textPath: string;
  mmprojPath: string;
  /** The source commit. */
  revision: string;
  license: string;
  /** True when the pair was already in the cache and nothing was fetched. */
  cached: boolean;
}

export interface ModelLocation {
  cacheDir?: string;
  revision?: string;
}

/** The folder `pull` fills for a commit id (default: the pinned revision), and where `ask` looks. */
export function defaultModelDir(location: ModelLocation = {}): string {
  return modelDirFor(location.cacheDir ?? defaultCacheDir(), location.revision ?? MOONDREAM1_REVISION);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The pulled pair, or undefined when nothing has been pulled there yet. */
export async function findPulledModel(location: ModelLocation = {}): Promise<Required<ModelFiles> | undefined> {
  const dir = defaultModelDir(location);
  try {
    if (!(await stat(dir)).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  // Both halves present, or nothing pulled yet; more than one pair is resolveModelFiles's error.
  const kinds = (await readdir(dir)).map(modelFileKind);
  if (!kinds.includes('text') || !kinds.includes('mmproj')) return undefined;
  const files = await resolveModelFiles(dir);
  return files.mmproj === undefined ? undefined : { text: files.text, mmproj: files.mmproj };
}

function checkOptions(options: PullOptions): void {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'an object', options);
  const { revision, textType, visionType, endpoint, token, cacheDir, signal } = options;
  if (revision !== undefined && (typeof revision !== 'string' || !/^[\w.\-/]+$/.test(revision))) {
    throw invalidArgument('options.revision', 'a commit id, branch or tag', revision);
  }
  if (textType !== undefined && !TEXT_TYPES.includes(textType)) throw invalidArgument('options.textType', TEXT_TYPES.join(' | '), textType);
  if (visionType !== undefined && !VISION_TYPES.includes(visionType)) throw invalidArgument('options.visionType', VISION_TYPES.join(' | '), visionType);
  if (endpoint !== undefined && (typeof endpoint !== 'string' || !/^https?:\/\/[^/]/.test(endpoint))) {
    throw invalidArgument('options.endpoint', 'an http(s) URL', endpoint);
  }
  if (token !== undefined && typeof token !== 'string') throw invalidArgument('options.token', 'a string', token);
  if (cacheDir !== undefined && (typeof cacheDir !== 'string' || cacheDir.length === 0)) throw invalidArgument('options.cacheDir', 'a folder path', cacheDir);
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidArgument('options.signal', 'an AbortSignal', signal);
}

/** Removes pairs of other types, so the folder holds exactly one pair and loads unambiguously. */
async function removeOtherPairs(dir: string, keep: readonly string[]): Promise<void> {
  const stale = (await readdir(dir)).filter((name) => modelFileKind(name) !== undefined && !keep.includes(name));
  for (const name of stale) await rm(join(dir, name), { force: true });
}

/**
 * Downloads moondream1 (verified, resumable) and converts it into the cache. A pair already in the
 * cache for a commit id returns at once without touching the network.
 */
export async function pullModel(options: PullOptions = {}): Promise<PulledModel> {
  checkOptions(options);
  const revision = options.revision ?? MOONDREAM1_REVISION;
  const textType = options.textType ?? 'q4_0';
  const visionType = options.visionType ?? 'f16';
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const { signal, onProgress } = options;
  const names = outputFileNames(textType, visionType);

  const cachedPair = async (commit: string): Promise<PulledModel | undefined> => {
    const dir = modelDirFor(cacheDir, commit);
    const result = { dir, textPath: join(dir, names.text), mmprojPath: join(dir, names.mmproj), revision: commit, license: MOONDREAM1_LICENSE };
    // The converter publishes both files by rename only when both are complete.
    if (!(await isFile(result.textPath)) || !(await isFile(result.mmprojPath))) return undefined;
    if (options.prune) await rm(hfDirFor(dir), { recursive: true, force: true });
    return { ...result, cached: true };
  };
  if (isCommitId(revision)) {
    const cached = await cachedPair(revision.toLowerCase());
    if (cached) return cached;
  }

  const client: HubClient = {
    endpoint: (options.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_HF_ENDPOINT).replace(/\/+$/, ''),
    token: (options.token ?? process.env.HF_TOKEN) || undefined,
    signal,
  };
  const listing = await fetchRevisionListing(client, revision);
  if (!isCommitId(revision)) {
    const cached = await cachedPair(listing.commit);
    if (cached) return cached;
  }

  const dir = modelDirFor(cacheDir, listing.commit);
  // Another process may be pulling the same model into the same cache: wait for it, then use its pair.
  const release = await acquirePullLock(dir, {
    signal,
    onWait: (waitedMs) => onProgress?.({ phase: 'wait', done: waitedMs, total: 0 }),
  });
  try {
    // Whoever held the lock may have just pulled this very pair.
    const cached = await cachedPair(listing.commit);
    if (cached) return cached;
    const hfDir = hfDirFor(dir);
    await mkdir(hfDir, { recursive: true });
    const total = listing.files.reduce((sum, f) => sum + f.size, 0);
    let done = 0;
    for (const file of listing.files) {
      await downloadFile({
        client,
        file,
        url: resolveUrl(client.endpoint, listing.commit, file.name),
        path: join(hfDir, file.name),
        onBytes: (delta) => {
          done += delta;
          onProgress?.({ phase: 'download', file: file.name, done, total });
        },
      });
    }

    if (signal?.aborted) throw abortedError();
    const converted = await convertCheckpoint({
      checkpointDir: hfDir,
      outDir: dir,
      textType,
      visionType,
      revision: listing.commit,
      ...(signal ? { signal } : {}),
      onProgress: (p) => onProgress?.({ phase: 'convert', tensor: p.tensor, done: p.done, total: p.total }),
    });
    await removeOtherPairs(dir, [names.text, names.mmproj]);
    if (options.prune) await rm(hfDir, { recursive: true, force: true });
    return {
      dir, textPath: converted.textPath, mmprojPath: converted.mmprojPath, revision: listing.commit, license: MOONDREAM1_LICENSE, cached: false,
    };
  } finally {
    await release();
  }
}
