// Installing without a compiler: the packed main package and the packed platform package, in a
// folder whose PATH holds node and nothing else (no compiler, CMake, git), offline from the local
// npm cache. The install must compile nothing, take at most 20 s, and the installed CLI must answer
// the tiny model exactly as this clone's build does. Needs the portable build (build-portable/,
// from `npm run pack:platform` or `npm run build:portable`; .ci/run makes it) and skips without it.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { platformPackageName } from '../../src/addon-location.js';
import { writeOfflineApp } from '../helpers/offline-app.js';
import { tempDir } from '../helpers/temp-dir.js';
import { tinyPair } from '../helpers/tiny-model.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const portableAddon = join(repoRoot, 'build-portable', 'Release', 'moondream_ggml.node');
const cli = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const IMAGE = join(repoRoot, 'test', 'fixtures', 'images', 'smooth_600x450.png');
const QUESTION = 'What is in this picture?';
const INSTALL_LIMIT_MS = 20_000;
const PLATFORM_PACKAGE_LIMIT = 15 * 2 ** 20;

function npmCli(): string {
  const fromNpm = process.env.npm_execpath;
  if (fromNpm && fromNpm.endsWith('.js')) return fromNpm;
  return realpathSync(execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim());
}

// This process's environment without npm's per-script variables and without the overrides
// that would make the installed package load another binary.
function cleanEnv(path: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'MOONDREAM_GGML_BINARY' || key === 'MOONDREAM_GGML_ADDON' || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  env.PATH = path;
  return env;
}

function packJson(args: string[], cwd: string): { filename: string; size: number } {
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', ...args], { cwd, encoding: 'utf8' });
  return (JSON.parse(out) as { filename: string; size: number }[])[0]!;
}

describe('installing the packed packages offline, without a compiler', { skip: !existsSync(portableAddon) && 'no portable build: run `npm run pack:platform`' }, () => {
  it('installs the prebuilt binary in at most 20 s, compiles nothing, and answers as the source build does', async (t) => {
    const dir = tempDir('moondream-offline-install-');
    const pairDir = dirname((await tinyPair('q8_0')).textPath);

    execFileSync(process.execPath, [join(repoRoot, 'scripts', 'pack-platform.mjs'), '--skip-build', '--out', dir], { stdio: 'pipe' });
    const platformName = platformPackageName();
    const platformTarball = `${platformName.slice(1).replace('/', '-')}-${(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version}.tgz`;
    assert.ok(existsSync(join(dir, platformTarball)), `pack-platform wrote no ${platformTarball}`);
    const platformBytes = statSync(join(dir, platformTarball)).size;
    t.diagnostic(`${platformTarball}: ${(platformBytes / 2 ** 20).toFixed(2)} MiB packed (limit 15)`);
    assert.ok(platformBytes <= PLATFORM_PACKAGE_LIMIT, 'the platform package is over 15 MiB packed');
    const main = packJson(['--pack-destination', dir], repoRoot);

    // PATH: node, and the shell npm runs scripts with. No compiler, CMake, git, make or ninja.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    symlinkSync('/bin/sh', join(bin, 'sh'));
    for (const tool of ['cc', 'gcc', 'g++', 'c++', 'clang', 'cmake', 'git', 'make', 'ninja']) {
      assert.notEqual(spawnSync('sh', ['-c', `command -v ${tool}`], { env: { PATH: bin } }).status, 0, `${tool} is on the install's PATH`);
    }
    const env = cleanEnv(bin);

    const app = join(dir, 'app');
    mkdirSync(app);
    writeOfflineApp(repoRoot, app, { 'moondream-ggml': main.filename, [platformName]: platformTarball });
    const npm = npmCli();
    const started = Date.now();
    const install = spawnSync(process.execPath, [npm, 'ci', '--offline', '--foreground-scripts', '--no-audit', '--no-fund'], {
      cwd: app, env, encoding: 'utf8',
    });
    const elapsed = Date.now() - started;
    const log = `${install.stdout}\n${install.stderr}`;
    writeFileSync(join(dir, 'install.log'), log);
    t.diagnostic(`npm ci --offline of both tarballs, PATH without a compiler: ${elapsed} ms (limit ${INSTALL_LIMIT_MS}); ${log.split('\n').find((line) => line.startsWith('moondream-ggml:')) ?? 'no moondream-ggml line'}`);
    if (process.env.MOONDREAM_INSTALL_LOG) writeFileSync(process.env.MOONDREAM_INSTALL_LOG, `${log}\ninstall took ${elapsed} ms\n`);
    assert.equal(install.status, 0, log);
    assert.match(log, new RegExp(`moondream-ggml: using the prebuilt binary from ${platformName}@`));
    assert.doesNotMatch(log, /building from source/);
    const installed = join(app, 'node_modules', 'moondream-ggml');
    assert.equal(existsSync(join(installed, 'build')), false, 'the install built something');
    assert.ok(elapsed <= INSTALL_LIMIT_MS, `the install took ${elapsed} ms`);

    const npx = join(dirname(npm), 'npx-cli.js');
    const askArgs = ['ask', IMAGE, QUESTION, '--model', pairDir, '--max-tokens', '16', '--threads', '2'];
    const fromPackage = spawnSync(process.execPath, [npx, '--offline', 'moondream-ggml', ...askArgs], { cwd: app, env, encoding: 'utf8' });
    assert.equal(fromPackage.status, 0, fromPackage.stderr);
    const fromClone = spawnSync(process.execPath, [cli, ...askArgs], { encoding: 'utf8' });
    assert.equal(fromClone.status, 0, fromClone.stderr);
    assert.ok(fromClone.stdout.trim().length > 0);
    assert.equal(fromPackage.stdout, fromClone.stdout);
    t.diagnostic(`installed package and source build both answer ${JSON.stringify(fromPackage.stdout.trim())}`);

    const system = spawnSync(process.execPath, [npx, '--offline', 'moondream-ggml', 'system', '--json'], { cwd: app, env, encoding: 'utf8' });
    assert.equal(system.status, 0, system.stderr);
    const info = JSON.parse(system.stdout) as { addon: { origin: string }; cpuBackend: { runtimeSelected: boolean; variant: string } };
    assert.match(info.addon.origin, new RegExp(`^${platformName}@`));
    assert.equal(info.cpuBackend.runtimeSelected, true);
    t.diagnostic(`installed addon: ${info.addon.origin}, CPU variant ${info.cpuBackend.variant}`);
  });
});
