#!/usr/bin/env node
// npm's install step. Uses a prebuilt binary when one loads on this machine, so nothing is
// compiled; otherwise builds from source as before, and says why in one line.
//
//   prebuilt: the platform package (@moondream-ggml/linux-x64-gnu, ...), an optional dependency
//             that npm installs only where its os/cpu/libc match; or MOONDREAM_GGML_BINARY
//   source:   `npm install --build-from-source` (npm sets npm_config_build_from_source), no
//             package for this platform, or a prebuilt binary that fails to load here
//
// Which file the package then loads is decided at run time by src/addon-location.ts, in the same
// order, so a prebuilt binary works even where npm skipped this script.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDON_FILE, platformId, platformPackageName } from './platform-package.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const say = (line) => console.log(`moondream-ggml: ${line}`);

// Loads the addon in a child process (a crash or a missing library cannot take the install down)
// and makes it load ggml's CPU backend; returns the chosen variant, or throws with the reason.
function checkLoads(path) {
  const probe = `const a = require(${JSON.stringify(path)}); const r = a.cpuBackend();
    if (r.error) { console.error(r.error.message); process.exit(1); } console.log(r.variant);`;
  const child = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', timeout: 60_000 });
  if (child.status !== 0) {
    const why = (child.stderr || child.error?.message || `exit status ${child.status}`).trim().split('\n').find((l) => l.trim() !== '');
    throw new Error(why ?? 'it did not load');
  }
  return child.stdout.trim();
}

function prebuilt() {
  const name = platformPackageName();
  let manifest;
  try {
    manifest = createRequire(join(root, 'package.json')).resolve(`${name}/package.json`);
  } catch {
    return { reason: `no prebuilt binary for ${platformId()} is installed (${name})` };
  }
  const { version } = JSON.parse(readFileSync(manifest, 'utf8'));
  const path = join(dirname(manifest), ADDON_FILE);
  return { path, label: `${name}@${version}` };
}

function buildFromSource(reason) {
  say(`building from source (${reason}); this needs a C++17 compiler, CMake >= 3.19 and git, and takes a few minutes`);
  const run = (script, args = []) => execFileSync(process.execPath, [join(root, 'scripts', script), ...args], { cwd: root, stdio: 'inherit' });
  try {
    run('fetch-ggml.mjs');
    run('build-native.mjs');
  } catch {
    process.exit(1);  // both scripts have said what failed
  }
}

const override = process.env.MOONDREAM_GGML_BINARY;
const fromSource = process.env.npm_config_build_from_source === 'true' || process.argv.includes('--build-from-source');

if (fromSource) {
  buildFromSource('--build-from-source');
} else if (override) {
  try {
    const variant = checkLoads(resolve(override));
    say(`using MOONDREAM_GGML_BINARY=${override} (CPU backend ${variant}); nothing to compile`);
  } catch (error) {
    buildFromSource(`MOONDREAM_GGML_BINARY=${override} does not load here: ${error.message}`);
  }
} else {
  const found = prebuilt();
  if (!found.path || !existsSync(found.path)) {
    buildFromSource(found.reason ?? `${found.label} has no ${ADDON_FILE}`);
  } else {
    try {
      const variant = checkLoads(found.path);
      say(`using the prebuilt binary from ${found.label} (CPU backend ${variant}); nothing to compile`);
    } catch (error) {
      buildFromSource(`the prebuilt binary from ${found.label} does not load here: ${error.message}`);
    }
  }
}
