// The pinned node-llama-cpp package's llama.cpp git bundle, found and verified against
// vendor/ggml.pin.json: the one place fetch-ggml.mjs (ggml for our addon, at install time) and
// build-llama-cpp.mjs (llama.cpp's own tools for the benchmarks) get their source from.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** vendor/ggml.pin.json: package, version, bundle, bundleSha256, llamaCppCommit, ggmlTree, ggmlVersion. */
export function readPin() {
  return JSON.parse(readFileSync(join(repositoryRoot, 'vendor', 'ggml.pin.json'), 'utf8'));
}

/**
 * The bundle's path once the installed package has the pinned version and the bundle the pinned
 * sha256; throws an Error that says what to do otherwise. `missingHint` ends the message given
 * when the package is not installed.
 */
export async function verifiedBundle(pin, missingHint = '') {
  const packageDir = findPackageDir(pin);
  if (!packageDir) throw new Error(`${pin.package}@${pin.version} is not installed${missingHint}. Run \`npm ci\` in the repository first.`);
  const installed = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
  if (installed !== pin.version) {
    throw new Error(`${pin.package} is ${installed} but the pin wants ${pin.version}. Run \`npm ci\` to install the locked version.`);
  }
  const bundle = join(packageDir, pin.bundle);
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing from ${pin.package}@${pin.version}.`);
  const actualSha = await sha256(bundle);
  if (actualSha !== pin.bundleSha256) {
    throw new Error(`${bundle} has sha256 ${actualSha}, expected ${pin.bundleSha256}. The package is corrupt or was tampered with.`);
  }
  return bundle;
}

/** git with captured output, trimmed. */
export function git(args, options = {}) {
  return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options }).trim();
}

function findPackageDir(pin) {
  // Walk up like Node's resolver does, without going through the package's `exports` map.
  for (let dir = repositoryRoot; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', pin.package);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

async function sha256(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}
