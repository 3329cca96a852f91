// A throwaway npm project that installs packed tarballs of moondream-ggml offline: its lockfile
// is written from the repository's, so npm takes every dependency from the local npm cache by
// integrity (npm ci in the clone put the tarballs there) and never asks the registry.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  dev?: boolean;
  [key: string]: unknown;
}

interface Lockfile {
  packages: Record<string, LockEntry>;
}

/**
 * Writes package.json and package-lock.json into `appDir` for the given tarballs (name -> file
 * name inside `appDir`'s parent folder). Every non-dev package of the repository's lockfile is
 * copied, so the main package's dependencies resolve exactly as locked.
 */
export function writeOfflineApp(repoRoot: string, appDir: string, tarballs: Record<string, string>): void {
  const repoPackage = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    name: string; version: string; license: string; engines: Record<string, string>; bin: Record<string, string>;
    dependencies: Record<string, string>; optionalDependencies: Record<string, string>; overrides?: Record<string, unknown>;
  };
  const repoLock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as Lockfile;
  const specs = Object.fromEntries(Object.entries(tarballs).map(([name, file]) => [name, `file:../${file}`]));
  const packages: Record<string, LockEntry> = { '': { name: 'offline-app', dependencies: specs } };
  for (const [path, entry] of Object.entries(repoLock.packages)) {
    if (path === '' || entry.dev === true || Object.keys(tarballs).some((name) => path === `node_modules/${name}`)) continue;
    packages[path] = entry;
  }
  packages[`node_modules/${repoPackage.name}`] = {
    version: repoPackage.version,
    resolved: specs[repoPackage.name],
    license: repoPackage.license,
    hasInstallScript: true,
    dependencies: repoPackage.dependencies,
    optionalDependencies: repoPackage.optionalDependencies,
    bin: repoPackage.bin,
    engines: repoPackage.engines,
  };
  for (const [name, spec] of Object.entries(specs)) {
    if (name === repoPackage.name) continue;
    const platformLock = repoLock.packages[`node_modules/${name}`] ?? {};
    const { resolved: _resolved, integrity: _integrity, optional: _optional, ...rest } = platformLock;
    packages[`node_modules/${name}`] = { ...rest, version: repoPackage.version, resolved: spec };
  }
  // The repository's overrides shaped its lockfile, and npm ci checks the copied entries against them.
  const overrides = repoPackage.overrides ? { overrides: repoPackage.overrides } : {};
  writeFileSync(join(appDir, 'package.json'), `${JSON.stringify({ name: 'offline-app', private: true, dependencies: specs, ...overrides }, null, 2)}\n`);
  writeFileSync(join(appDir, 'package-lock.json'),
    `${JSON.stringify({ name: 'offline-app', lockfileVersion: 3, requires: true, packages }, null, 2)}\n`);
}
