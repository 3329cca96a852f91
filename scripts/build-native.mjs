#!/usr/bin/env node
// Builds the native addon with cmake-js: ggml (static, CPU backend) + our core + the N-API skin.
//   --portable  build for any CPU of the architecture into build-portable/: ggml's CPU backend as
//               run-time-selected variant libraries beside the .node (also MOONDREAM_PORTABLE=1)
//   --sanitize  ASan + UBSan build into build-sanitize/ (for the robustness scripts)
//   --force     reconfigure from scratch
// Incremental: with Ninja a second run only relinks what changed.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const portable = args.has('--portable') || process.env.MOONDREAM_PORTABLE === '1';
const sanitize = args.has('--sanitize');
const outDir = sanitize ? 'build-sanitize' : portable ? 'build-portable' : 'build';

if (args.has('--force')) rmSync(join(root, outDir), { recursive: true, force: true });

const require = createRequire(import.meta.url);
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const cmakeArgs = [
  cmakeJs, 'build', '--out', outDir, '--log-level', 'warn',
  `--CDMOONDREAM_PORTABLE=${portable ? 'ON' : 'OFF'}`,
  `--CDMOONDREAM_SANITIZE=${sanitize ? 'ON' : 'OFF'}`,
];
if (sanitize) cmakeArgs.push('--config', 'RelWithDebInfo');
// cmake-js downloads Node's headers unless told where they are. Node installs ship them next to
// the binary (<prefix>/include/node), so point cmake-js there and the build works offline.
const env = { ...process.env };
const nodePrefix = dirname(dirname(process.execPath));
if (!env.npm_config_nodedir && existsSync(join(nodePrefix, 'include', 'node', 'node_api.h'))) {
  env.npm_config_nodedir = nodePrefix;
}
const started = Date.now();
try {
  execFileSync(process.execPath, cmakeArgs, { cwd: root, stdio: 'inherit', env });
} catch {
  console.error('build-native: the native build failed. It needs a C++17 compiler and CMake >= 3.19 ' +
    '(Debian: apt-get install build-essential cmake ninja-build). Fix the error above, then run `npm run build:native`.');
  process.exit(1);
}
console.log(`build-native: built ${outDir}/ in ${((Date.now() - started) / 1000).toFixed(1)} s` +
  `${portable ? ' (portable)' : ' (native CPU features)'}`);
