#!/usr/bin/env node
// Extracts ggml's source from the pinned node-llama-cpp package into vendor/ggml.
//
// node-llama-cpp ships the whole llama.cpp tree as a git bundle. We verify the bundle's sha256,
// the commit it holds and the git tree id of its ggml/ folder against vendor/ggml.pin.json, then
// `git archive` only ggml/ out of it. A stamp file makes a second run a no-op. Nothing third-party
// is ever committed: this script, the pin and the CMake glue are the whole vendoring.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { git, readPin, repositoryRoot as root, verifiedBundle } from './pinned-bundle.mjs';

const pin = readPin();
const target = join(root, 'vendor', 'ggml');
const stampPath = join(target, '.moondream-pin');
const stamp = `${pin.llamaCppCommit} ${pin.ggmlTree}\n`;

function fail(message) {
  throw new Error(message);
}

process.on('uncaughtException', (error) => {
  console.error(`fetch-ggml: ${error.message}`);
  process.exit(1);
});

if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp) {
  console.log(`fetch-ggml: vendor/ggml already at llama.cpp ${pin.llamaCppCommit.slice(0, 7)} (ggml ${pin.ggmlVersion})`);
  process.exit(0);
}

const bundle = await verifiedBundle(pin, ', and vendor/ggml is missing');

const work = join(root, 'vendor', `.ggml-extract-${process.pid}`);
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
try {
  const repo = join(work, 'repo.git');
  git(['init', '--bare', '--quiet', repo]);
  git(['--git-dir', repo, 'fetch', '--quiet', bundle, 'HEAD']);
  const commit = git(['--git-dir', repo, 'rev-parse', 'FETCH_HEAD']);
  if (commit !== pin.llamaCppCommit) fail(`the bundle holds commit ${commit}, expected ${pin.llamaCppCommit}.`);
  const tree = git(['--git-dir', repo, 'rev-parse', `${commit}:ggml`]);
  if (tree !== pin.ggmlTree) fail(`ggml/ in the bundle is tree ${tree}, expected ${pin.ggmlTree}.`);

  const out = join(work, 'out');
  mkdirSync(out);
  const tar = join(work, 'ggml.tar');
  git(['--git-dir', repo, 'archive', '--format=tar', `--output=${tar}`, `${commit}:ggml`]);
  execFileSync('tar', ['-xf', tar, '-C', out], { stdio: 'inherit' });
  writeFileSync(join(out, '.moondream-pin'), stamp);

  rmSync(target, { recursive: true, force: true });
  renameSync(out, target);
  console.log(`fetch-ggml: extracted ggml ${pin.ggmlVersion} (llama.cpp ${commit.slice(0, 7)}) into vendor/ggml`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
