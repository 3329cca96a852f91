#!/usr/bin/env node
// Builds the native addon with cmake-js: ggml (static, CPU backend) + our core + the N-API skin.
//   --portable  build for any CPU of the architecture into build-portable/: ggml's CPU backend as
//               run-time-selected variant libraries beside the .node (also MOONDREAM_PORTABLE=1)
//   --sanitize  ASan + UBSan build into build-sanitize/ (for the robustness scripts)
//   --isa avx2  ggml's AVX2 path only (no AVX-512), into build-avx2/: how a CPU without AVX-512
//               runs, for the benchmark's --isa avx2 mode (load it with MOONDREAM_GGML_ADDON)
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
const argv = process.argv.slice(2);
const isa = argv.includes('--isa') ? argv[argv.indexOf('--isa') + 1] : undefined;
if (isa !== undefined && isa !== 'avx2') {
  console.error(`build-native: Expected avx2 for --isa but received ${JSON.stringify(isa)}`);
  process.exit(1);
}
if (isa !== undefined && portable) {
  console.error('build-native: --isa and --portable exclude each other (a portable build carries every CPU level)');
  process.exit(1);
}
const outDir = sanitize ? 'build-sanitize' : isa === 'avx2' ? 'build-avx2' : portable ? 'build-portable' : 'build';

if (args.has('--force')) rmSync(join(root, outDir), { recursive: true, force: true });

const require = createRequire(import.meta.url);
const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
const cmakeArgs = [
  cmakeJs, 'build', '--out', outDir, '--log-level', 'warn',
  `--CDMOONDREAM_PORTABLE=${portable ? 'ON' : 'OFF'}`,
  // The AVX2 feature set is spelled out in cmake/cpu-backend.cmake.
  `--CDMOONDREAM_ISA=${isa ?? ''}`,
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
  `${isa === 'avx2' ? ' (AVX2 only)' : portable ? ' (portable)' : ' (native CPU features)'}`);
