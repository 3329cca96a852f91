// Loaded first by `npm test` (node --import), in the test runner and again in each test file's
// process: loads of the tiny models would otherwise write packed-weight cache files into the
// user's own cache folder (~/.cache/moondream-ggml/packed). The runner makes one folder for the
// whole run, its children inherit it through the environment, and the runner removes it at exit.
// A folder the caller named in MOONDREAM_PACKED_CACHE_DIR is used as given.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

if (process.env.MOONDREAM_PACKED_CACHE_DIR === undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'moondream-test-packed-'));
  process.env.MOONDREAM_PACKED_CACHE_DIR = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}
