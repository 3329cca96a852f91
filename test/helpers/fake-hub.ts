// A local imitation of the Hugging Face hub's endpoints that `pull` uses, with injectable faults:
//   GET /api/models/{repo}/revision/{rev}?blobs=true   the listing (siblings with sizes, lfs sha256)
//   GET /{repo}/resolve/{rev}/{file}                    content; LFS files redirect to /cdn/{sha256}
// Every route wants `Authorization: Bearer <token>`, as a gated or private repo would.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface FakeHubFile {
  name: string;
  data: Buffer;
  /** Served through the LFS redirect, with a sha256 in the listing. */
  lfs: boolean;
}

/** The files of an HF moondream1 checkpoint folder as the hub serves them (weights through LFS). */
export function checkpointFiles(dir: string): FakeHubFile[] {
  const file = (name: string, lfs: boolean) => ({ name, data: readFileSync(join(dir, name)), lfs });
  return [file('model.safetensors', true), file('tokenizer.json', false), file('config.json', false), file('generation_config.json', false)];
}

export interface FakeHubRequest {
  path: string;
  range: string | undefined;
  authorization: string | undefined;
}

export type Fault =
  /** Send half the body, then destroy the socket. */
  | 'cut'
  /** Flip one byte in the middle. */
  | 'flip'
  /** Send half the body, then hang until the client goes away. */
  | 'stall';

export interface FakeHub {
  endpoint: string;
  requests: FakeHubRequest[];
  /** File name -> fault applied to that file's next content response only. */
  faults: Map<string, Fault>;
  /** Answer Range requests with the whole file (200), as some servers do. */
  ignoreRange: boolean;
  /** Resolves when the stalled response's socket has been closed by the client. */
  stalledClosed: Promise<void> | undefined;
  close(): Promise<void>;
}

export interface FakeHubOptions {
  repo: string;
  /** Revision name (commit id, or branch) -> the commit id it resolves to. */
  revisions: Record<string, string>;
  files: FakeHubFile[];
  token: string;
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startFakeHub(options: FakeHubOptions): Promise<FakeHub> {
  const byName = new Map(options.files.map((f) => [f.name, f]));
  const bySha = new Map(options.files.map((f) => [sha256(f.data), f]));
  const hub: FakeHub = {
    endpoint: '',
    requests: [],
    faults: new Map(),
    ignoreRange: false,
    stalledClosed: undefined,
    close: async () => undefined,
  };

  function serveContent(req: IncomingMessage, res: ServerResponse, file: FakeHubFile): void {
    let data = file.data;
    const fault = hub.faults.get(file.name);
    hub.faults.delete(file.name);
    if (fault === 'flip') {
      data = Buffer.from(data);
      const middle = data.length >> 1;
      data.writeUInt8(data.readUInt8(middle) ^ 0x01, middle);
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range && !hub.ignoreRange ? Number(range[1]) : 0;
    if (start >= data.length && data.length > 0) {
      res.writeHead(416, { 'content-range': `bytes */${data.length}` });
      res.end();
      return;
    }
    const body = data.subarray(start);
    res.writeHead(start > 0 ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': body.length,
      'accept-ranges': 'bytes',
      ...(start > 0 ? { 'content-range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    if (fault === 'cut' || fault === 'stall') {
      res.write(body.subarray(0, body.length >> 1), () => {
        if (fault === 'cut') res.socket?.destroy();
      });
      if (fault === 'stall') hub.stalledClosed = new Promise((resolve) => res.on('close', () => resolve()));
      return;
    }
    res.end(body);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    hub.requests.push({ path: url.pathname, range: req.headers.range, authorization: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      json(res, 401, { error: 'Invalid credentials in Authorization header' });
      return;
    }
    const parts = url.pathname.split('/').map(decodeURIComponent);
    const repoPrefix = `/${options.repo}`;
    const apiPrefix = `/api/models${repoPrefix}/revision/`;
    if (url.pathname.startsWith(apiPrefix)) {
      const commit = options.revisions[decodeURIComponent(url.pathname.slice(apiPrefix.length))];
      if (!commit) {
        json(res, 404, { error: 'Invalid rev id' });
        return;
      }
      const blobs = url.searchParams.get('blobs') === 'true';
      json(res, 200, {
        id: options.repo,
        sha: commit,
        siblings: [
          { rfilename: '.gitattributes' },
          { rfilename: 'README.md' },
          ...options.files.map((f) => ({
            rfilename: f.name,
            ...(blobs ? { blobId: createHash('sha1').update(f.name).digest('hex'), size: f.data.length } : {}),
            ...(blobs && f.lfs ? { lfs: { sha256: sha256(f.data), size: f.data.length, pointerSize: 134 } } : {}),
          })),
        ],
      });
      return;
    }
    if (url.pathname.startsWith(`${repoPrefix}/resolve/`)) {
      const [rev, name] = parts.slice(parts.length - 2);
      const file = byName.get(name ?? '');
      if (!file || !Object.values(options.revisions).includes(rev ?? '')) {
        json(res, 404, { error: 'Entry not found' });
        return;
      }
      if (file.lfs) {
        res.writeHead(302, { location: `/cdn/${sha256(file.data)}?signature=x` });
        res.end();
        return;
      }
      serveContent(req, res, file);
      return;
    }
    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    const file = cdn ? bySha.get(cdn[1]!) : undefined;
    if (file) {
      serveContent(req, res, file);
      return;
    }
    json(res, 404, { error: 'Not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  hub.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  hub.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return hub;
}
