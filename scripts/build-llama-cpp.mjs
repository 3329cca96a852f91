#!/usr/bin/env node
// Builds llama.cpp's reference tools from the same pinned node-llama-cpp bundle that ggml comes from,
// for benchmarks and comparisons that must run llama.cpp on this machine, in the same run:
//   node scripts/build-llama-cpp.mjs [--variant native|avx2] [--targets llama-bench,llama-mtmd-cli] [--json]
// prints one line per binary, `<target> <absolute path>` (or a JSON object with --json).
//
// The tree is cloned into ${XDG_CACHE_HOME:-~/.cache}/moondream-ggml/llama.cpp-<commit>/src, outside
// the repository (never committed), after the bundle's sha256 and commit are checked against
// vendor/ggml.pin.json like scripts/fetch-ggml.mjs does. Each variant builds into its own folder:
//   native  GGML_NATIVE=ON (every instruction this CPU has, but AMX: see NO_AMX below)
//   avx2    GGML_NATIVE=OFF with ggml's x86-64 defaults (AVX, AVX2, FMA, F16C, BMI2; no AVX-512), what
//           llama.cpp runs like on a CPU without AVX-512
// Release, Ninja, no libcurl/OpenSSL, no web UI download; CMake's output goes to build-<variant>.log. A stamp per variant and target list makes a
// second run a no-op that never invokes CMake (llama.cpp's UI asset step would re-run on every build).
// Several processes may call this at once: the first one builds under a lock, the others wait.
//
// Other scripts: `import { buildLlamaCpp, llamaCppBinaries } from './build-llama-cpp.mjs'`.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { git, readPin, verifiedBundle } from './pinned-bundle.mjs';

/** The tools the project's benchmarks and comparisons use. */
export const DEFAULT_TARGETS = Object.freeze(['llama-bench', 'llama-mtmd-cli', 'llama-server']);

// ggml's AMX matmul (picked by -march=native on CPUs with AMX) segfaults in
// ggml_backend_amx_mul_mat on q4_0/q8_0 models on the Xeon VMs this project runs on, in both
// llama-bench and llama-mtmd-cli; our engine does not use AMX either. So the native build leaves
// AMX out (explicit -mno-* flags win over -march=native in GCC and Clang).
function cpuHasAmx() {
  if (process.arch !== 'x64') return false;
  try {
    return /^flags\s*:.*\bamx_tile\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}
const NO_AMX = '-mno-amx-tile -mno-amx-int8 -mno-amx-bf16';

/** CMake cache entries per variant, on top of the common ones. */
const VARIANTS = Object.freeze({
  native: ['-DGGML_NATIVE=ON', ...(cpuHasAmx() ? [`-DCMAKE_C_FLAGS=${NO_AMX}`, `-DCMAKE_CXX_FLAGS=${NO_AMX}`] : [])],
  avx2: ['-DGGML_NATIVE=OFF', '-DGGML_AVX=ON', '-DGGML_AVX2=ON', '-DGGML_FMA=ON', '-DGGML_F16C=ON', '-DGGML_BMI2=ON',
    '-DGGML_AVX512=OFF', '-DGGML_AVX512_VBMI=OFF', '-DGGML_AVX512_VNNI=OFF', '-DGGML_AVX512_BF16=OFF', '-DGGML_AVX_VNNI=OFF',
    '-DGGML_AMX_TILE=OFF', '-DGGML_AMX_INT8=OFF', '-DGGML_AMX_BF16=OFF'],
});

const COMMON_CMAKE = Object.freeze([
  '-G', 'Ninja',
  '-DCMAKE_BUILD_TYPE=Release',
  '-DBUILD_SHARED_LIBS=OFF',       // self-contained binaries: nothing to find at run time
  '-DLLAMA_CURL=OFF',              // deprecated in this tree (a warning), kept for older pins
  '-DLLAMA_OPENSSL=OFF',
  '-DLLAMA_BUILD_TESTS=OFF',
  '-DLLAMA_BUILD_EXAMPLES=OFF',
  '-DLLAMA_BUILD_APP=OFF',
  '-DLLAMA_BUILD_UI=OFF',
  '-DLLAMA_USE_PREBUILT_UI=OFF',   // would download the web UI at build time; llama-server runs without it
  '-DGGML_CCACHE=OFF',
  '-DLLAMA_ALL_WARNINGS=OFF',      // third-party warnings are not ours to read (tens of thousands of lines)
  '-DGGML_ALL_WARNINGS=OFF',
]);

/** ${XDG_CACHE_HOME:-~/.cache}/moondream-ggml/llama.cpp-<commit> */
export function llamaCppCacheDir(pin = readPin()) {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'moondream-ggml', `llama.cpp-${pin.llamaCppCommit}`);
}

function checkVariant(variant) {
  if (!Object.hasOwn(VARIANTS, variant)) {
    throw new Error(`Expected one of ${Object.keys(VARIANTS).join(', ')} for variant but received ${JSON.stringify(variant)}`);
  }
}

function binaryPaths(buildDir, targets) {
  return Object.fromEntries(targets.map((t) => [t, join(buildDir, 'bin', t)]));
}

// One JSON line per build done in a folder: commit, variant, its CMake entries, targets.
function stampText(pin, variant, targets) {
  return `${JSON.stringify({ commit: pin.llamaCppCommit, variant, cmake: [...COMMON_CMAKE, ...VARIANTS[variant]], targets: [...targets].sort() })}\n`;
}

/**
 * The binaries' paths if this variant is already built with all these targets, else null.
 * Never builds anything.
 */
export function llamaCppBinaries({ variant = 'native', targets = DEFAULT_TARGETS } = {}) {
  checkVariant(variant);
  const pin = readPin();
  const buildDir = join(llamaCppCacheDir(pin), `build-${variant}`);
  const paths = binaryPaths(buildDir, targets);
  const stampPath = join(buildDir, '.moondream-stamp');
  if (!existsSync(stampPath)) return null;
  const cmake = JSON.stringify([...COMMON_CMAKE, ...VARIANTS[variant]]);
  // The stamp lists every build done so far in this folder; one with these settings and a
  // superset of the targets will do.
  const covered = readFileSync(stampPath, 'utf8').split('\n').filter(Boolean).some((line) => {
    let built;
    try {
      built = JSON.parse(line);
    } catch {
      return false;  // an older stamp format: rebuild
    }
    return built.commit === pin.llamaCppCommit && built.variant === variant && JSON.stringify(built.cmake) === cmake &&
      targets.every((t) => built.targets.includes(t));
  });
  if (!covered) return null;
  return Object.values(paths).every((p) => existsSync(p)) ? paths : null;
}

/** Clones the verified bundle into <cache>/src once. */
async function ensureSource(pin, cacheDir, log) {
  const src = join(cacheDir, 'src');
  const stampPath = join(src, '.moondream-pin');
  const stamp = `${pin.llamaCppCommit} ${pin.bundleSha256}\n`;
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp) return src;

  const bundle = await verifiedBundle(pin);
  log(`build-llama-cpp: cloning llama.cpp ${pin.llamaCppCommit.slice(0, 7)} from the ${pin.package} bundle into ${src}`);
  const work = `${src}.tmp-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  try {
    git(['clone', '--quiet', '--no-checkout', bundle, work]);
    git(['-C', work, '-c', 'advice.detachedHead=false', 'checkout', '--quiet', pin.llamaCppCommit]);
    const head = git(['-C', work, 'rev-parse', 'HEAD']);
    if (head !== pin.llamaCppCommit) throw new Error(`the bundle holds commit ${head}, expected ${pin.llamaCppCommit}.`);
    const tree = git(['-C', work, 'rev-parse', `${head}:ggml`]);
    if (tree !== pin.ggmlTree) throw new Error(`ggml/ in the bundle is tree ${tree}, expected ${pin.ggmlTree}.`);
    writeFileSync(join(work, '.moondream-pin'), stamp);
    rmSync(src, { recursive: true, force: true });
    renameSync(work, src);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return src;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** A directory lock (mkdir is atomic); a lock whose owner died is taken over. */
async function withLock(lockDir, log, fn) {
  let waited = false;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      let owner = NaN;
      try { owner = Number(readFileSync(join(lockDir, 'pid'), 'utf8')); } catch { /* being created */ }
      const age = Date.now() - statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs;
      if ((Number.isInteger(owner) && !pidAlive(owner)) || (Number.isNaN(owner) && age > 60_000)) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (!waited) log(`build-llama-cpp: another process (pid ${owner}) is building; waiting for it`);
      waited = true;
      await sleep(2000);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/**
 * Builds (once) and returns `{ variant, commit, sourceDir, buildDir, binaries: { target: path } }`.
 * `log` receives progress lines (default: stderr); CMake's own output goes to stderr too.
 */
export async function buildLlamaCpp({ variant = 'native', targets = DEFAULT_TARGETS, log = (l) => process.stderr.write(`${l}\n`) } = {}) {
  checkVariant(variant);
  const pin = readPin();
  const cacheDir = llamaCppCacheDir(pin);
  const buildDir = join(cacheDir, `build-${variant}`);
  const result = (binaries) => ({ variant, commit: pin.llamaCppCommit, sourceDir: join(cacheDir, 'src'), buildDir, binaries });
  const ready = llamaCppBinaries({ variant, targets });
  if (ready) return result(ready);

  mkdirSync(cacheDir, { recursive: true });
  return withLock(join(cacheDir, `.lock-${variant}`), log, async () => {
    const again = llamaCppBinaries({ variant, targets });  // built by the process we waited for
    if (again) return result(again);
    const src = await ensureSource(pin, cacheDir, log);
    const started = Date.now();
    log(`build-llama-cpp: building ${targets.join(', ')} (${variant}) in ${buildDir}; several minutes on a small machine`);
    // CMake's output goes to a log next to the build folder; its tail is shown if a step fails.
    const logPath = `${buildDir}.log`;
    writeFileSync(logPath, '');
    const run = (args) => {
      const r = spawnSync('cmake', args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 30 });
      appendFileSync(logPath, `$ cmake ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
      if (r.error) throw new Error(`build-llama-cpp: cannot run cmake (${r.error.message}). Install cmake and ninja-build.`);
      if (r.status !== 0) {
        const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').slice(-40).join('\n');
        throw new Error(`${tail}\nbuild-llama-cpp: \`cmake ${args.join(' ')}\` failed (exit ${r.status}); full log in ${logPath}.`);
      }
    };
    run(['-S', src, '-B', buildDir, ...COMMON_CMAKE, ...VARIANTS[variant], '--log-level=WARNING']);
    run(['--build', buildDir, '--target', ...targets, '--parallel', String(availableParallelism())]);
    const paths = binaryPaths(buildDir, targets);
    for (const p of Object.values(paths)) if (!existsSync(p)) throw new Error(`build-llama-cpp: the build finished but ${p} is missing.`);
    const stampPath = join(buildDir, '.moondream-stamp');
    const previous = existsSync(stampPath) ? readFileSync(stampPath, 'utf8') : '';
    writeFileSync(stampPath, previous + stampText(pin, variant, targets));
    log(`build-llama-cpp: built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return result(paths);
  });
}

function cliOption(args, name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const targetList = cliOption(args, '--targets');
  try {
    const built = await buildLlamaCpp({
      variant: cliOption(args, '--variant') ?? 'native',
      targets: targetList ? targetList.split(',').filter(Boolean) : DEFAULT_TARGETS,
    });
    if (args.includes('--json')) process.stdout.write(`${JSON.stringify(built, null, 2)}\n`);
    else for (const [target, path] of Object.entries(built.binaries)) process.stdout.write(`${target} ${path}\n`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
