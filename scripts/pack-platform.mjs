#!/usr/bin/env node
// `npm run pack:platform`: the platform package of this machine (@moondream-ggml/linux-x64-gnu on
// x86-64 Linux with glibc) holding the portable build: the addon, ggml's shared libraries and
// every CPU variant library, stripped. Builds build-portable/ first (incrementally) unless
// --skip-build; writes the staged folder to build-portable/package/ and the tarball beside it
// (or into --out <dir>), then lists the files and sizes.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ADDON_FILE, linuxLibc, platformId, platformPackageName } from './platform-package.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const outDir = outIndex >= 0 ? resolve(args[outIndex + 1]) : join(root, 'build-portable');
const release = join(root, 'build-portable', 'Release');
const stage = join(root, 'build-portable', 'package');

if (!args.includes('--skip-build')) {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-native.mjs'), '--portable'], { cwd: root, stdio: 'inherit' });
}
if (!existsSync(join(release, ADDON_FILE))) {
  console.error(`pack-platform: no portable build in ${release}: run \`npm run build:portable\` first.`);
  process.exit(1);
}

const main = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const libraries = readdirSync(release).filter((f) => f === ADDON_FILE || /\.(so|dylib|dll)$/.test(f)).sort();
const libc = linuxLibc();
const manifest = {
  name: platformPackageName(),
  version: main.version,
  description: `Prebuilt ${platformId()} binaries of moondream-ggml (portable: ggml's CPU backend chosen at run time)`,
  license: main.license,
  os: [process.platform],
  cpu: [process.arch],
  ...(libc ? { libc: [libc === 'gnu' ? 'glibc' : 'musl'] } : {}),
  engines: main.engines,
  files: libraries,
};

rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
const strip = spawnSync('strip', ['--version']).status === 0;
for (const file of libraries) {
  copyFileSync(join(release, file), join(stage, file));
  // Symbols only serve debuggers; stripping takes the variants from ~3 MB to ~1 MB each.
  if (strip) execFileSync('strip', ['--strip-unneeded', join(stage, file)]);
}
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
writeFileSync(join(stage, 'README.md'), `# ${manifest.name}\n\nThe prebuilt native addon of [moondream-ggml](https://www.npmjs.com/package/moondream-ggml) for ` +
  `${platformId()}, installed by it as an optional dependency. Not meant to be used on its own.\n\n` +
  'One binary for every x86-64 CPU: ggml\'s CPU backend is built once per instruction-set level ' +
  '(`libggml-cpu-<variant>.so`) and the addon loads the best one this CPU runs. ' +
  '`npx moondream-ggml system` shows the choice; `MOONDREAM_CPU_LEVEL` caps it.\n');

mkdirSync(outDir, { recursive: true });
const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], { cwd: stage, encoding: 'utf8' }))[0];
const tarball = join(outDir, packed.filename);
console.log(`pack-platform: ${tarball}: ${(statSync(tarball).size / 2 ** 20).toFixed(2)} MiB packed, ` +
  `${(packed.unpackedSize / 2 ** 20).toFixed(2)} MiB unpacked, ${packed.files.length} files${strip ? '' : ' (not stripped: no strip on PATH)'}`);
for (const f of packed.files) console.log(`  ${String(f.size).padStart(9)}  ${f.path}`);
