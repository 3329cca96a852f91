// What to download: the four files of vikhyatk/moondream1, listed by the hub's model-info API at
// one revision, with the sizes and sha256 digests we check the bytes against.
import { MoondreamError } from '../errors.js';
import { MOONDREAM1_REVISION } from '../convert/profile.js';
import { hubGet, statusError, type HubClient } from './http.js';

export const MOONDREAM1_REPO = 'vikhyatk/moondream1';

/** Small files first: they fail fast if something is off, before the 3.7 GB one starts. */
export const MOONDREAM1_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'model.safetensors'] as const;
export type Moondream1File = (typeof MOONDREAM1_FILES)[number];

export interface RemoteFile {
  name: Moondream1File;
  size: number;
  /** The full digest, from the hub's LFS entry; small non-LFS files have none. */
  sha256: string | undefined;
  /** The first and last hex digits of the digest, where only a fragment is known (spec §5.3). */
  sha256Fragment: { head: string; tail: string } | undefined;
}

export interface RevisionListing {
  /** The commit the revision resolved to (40 hex digits). */
  commit: string;
  files: RemoteFile[];
}

/**
 * The published files at the pinned revision (spec §5.3). A mirror behind HF_ENDPOINT that lists
 * other sizes or digests for this commit is serving something else, and we refuse it.
 */
const PINNED: Readonly<Record<string, Readonly<Record<Moondream1File, { size: number; head: string; tail: string }>>>> = {
  [MOONDREAM1_REVISION]: {
    'model.safetensors': { size: 3_715_037_856, head: '892e51df', tail: '33ee25' },
    'tokenizer.json': { size: 2_114_924, head: '337da36b', tail: '734cfc' },
    'config.json': { size: 323, head: '426ecbf9', tail: '55500b' },
    'generation_config.json': { size: 69, head: 'd8b3d56c', tail: 'b7f29d' },
  },
};

export const isCommitId = (revision: string): boolean => /^[0-9a-f]{40}$/i.test(revision);

export function revisionUrl(endpoint: string, revision: string): string {
  return `${endpoint}/api/models/${MOONDREAM1_REPO}/revision/${encodeURIComponent(revision)}?blobs=true`;
}

export function resolveUrl(endpoint: string, commit: string, file: Moondream1File): string {
  return `${endpoint}/${MOONDREAM1_REPO}/resolve/${commit}/${file}`;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);
const isSize = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

function malformed(what: string): MoondreamError {
  return new MoondreamError('ERR_DOWNLOAD', `The hub's listing of ${MOONDREAM1_REPO} is malformed: ${what}`);
}

function remoteFile(name: Moondream1File, entry: Json, commit: string): RemoteFile {
  // An LFS entry describes the content; the plain `size` of an LFS file may be the pointer's.
  const lfs = isObject(entry.lfs) ? entry.lfs : undefined;
  const size = lfs && isSize(lfs.size) ? lfs.size : entry.size;
  if (!isSize(size)) throw malformed(`no size for ${name} (is ?blobs=true supported?)`);
  let sha256: string | undefined;
  if (lfs && lfs.sha256 !== undefined) {
    if (typeof lfs.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(lfs.sha256)) throw malformed(`bad sha256 for ${name}`);
    sha256 = lfs.sha256.toLowerCase();
  }
  const pinned = PINNED[commit.toLowerCase()]?.[name];
  if (pinned) {
    const known = `${pinned.size} bytes, sha256 ${pinned.head}…${pinned.tail}`;
    if (size !== pinned.size || (sha256 && !(sha256.startsWith(pinned.head) && sha256.endsWith(pinned.tail)))) {
      throw new MoondreamError('ERR_DOWNLOAD',
        `The hub lists ${name} at ${commit.slice(0, 7)} as ${size} bytes${sha256 ? `, sha256 ${sha256}` : ''}, `
        + `but the published file is ${known}; HF_ENDPOINT is not serving ${MOONDREAM1_REPO}`);
    }
  }
  return { name, size, sha256, sha256Fragment: pinned ? { head: pinned.head, tail: pinned.tail } : undefined };
}

/** GET /api/models/{repo}/revision/{revision}?blobs=true, reduced to the files we need. */
export async function fetchRevisionListing(client: HubClient, revision: string): Promise<RevisionListing> {
  const what = `Listing ${MOONDREAM1_REPO} at revision ${revision} on ${client.endpoint}`;
  const response = await hubGet(client, revisionUrl(client.endpoint, revision), { accept: 'application/json' });
  if (!response.ok) throw await statusError(client, response, what);
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    throw new MoondreamError('ERR_DOWNLOAD', `${what}: the answer is not JSON`, { cause: error });
  }
  if (!isObject(body) || !Array.isArray(body.siblings)) throw malformed('no siblings array');
  // A branch or tag resolves to a commit; a commit must resolve to itself.
  const sha = typeof body.sha === 'string' && isCommitId(body.sha) ? body.sha.toLowerCase() : undefined;
  if (isCommitId(revision) && sha && sha !== revision.toLowerCase()) throw malformed(`asked for ${revision}, got ${sha}`);
  const commit = sha ?? (isCommitId(revision) ? revision.toLowerCase() : undefined);
  if (!commit) throw malformed(`revision ${revision} did not resolve to a commit id`);

  const entries = new Map<string, Json>();
  for (const sibling of body.siblings) {
    if (isObject(sibling) && typeof sibling.rfilename === 'string') entries.set(sibling.rfilename, sibling);
  }
  const files = MOONDREAM1_FILES.map((name) => {
    const entry = entries.get(name);
    if (!entry) throw new MoondreamError('ERR_DOWNLOAD', `${MOONDREAM1_REPO} at ${commit.slice(0, 7)} has no ${name}`);
    return remoteFile(name, entry, commit);
  });
  return { commit, files };
}

/** Why these bytes are not the listed file, or undefined when they are. */
export function digestProblem(file: RemoteFile, size: number, sha256: string): string | undefined {
  if (size !== file.size) return `${size} bytes, expected ${file.size}`;
  if (file.sha256 && sha256 !== file.sha256) return `sha256 ${sha256}, expected ${file.sha256}`;
  const fragment = file.sha256Fragment;
  if (fragment && !(sha256.startsWith(fragment.head) && sha256.endsWith(fragment.tail))) {
    return `sha256 ${sha256}, expected ${fragment.head}…${fragment.tail}`;
  }
  return undefined;
}
