import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { explainLoadFailure } from '../../src/binding.js';
import { tempDir } from '../helpers/temp-dir.js';

const indexJs = fileURLToPath(new URL('../../src/index.js', import.meta.url));

function loadWithAddonAt(path: string): { code?: string; message?: string } {
  const script = `import(${JSON.stringify(indexJs)}).then((m) => { try { m.ggmlInfo(); console.log('{}'); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); } });`;
  const child = spawnSync(process.execPath, ['-e', script], {
    env: { ...process.env, MOONDREAM_GGML_BINARY: path }, encoding: 'utf8',
  });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout.trim()) as { code?: string; message?: string };
}

describe('loading the native addon', () => {
  const dir = tempDir();

  it('names the build command when the addon is missing', () => {
    const outcome = loadWithAddonAt(join(dir, 'missing.node'));
    assert.equal(outcome.code, 'ERR_NATIVE_ADDON');
    assert.match(outcome.message ?? '', /not built.*npm run build:native/);
  });

  it('names the build command when the file is not a loadable addon', () => {
    const bogus = join(dir, 'bogus.node');
    writeFileSync(bogus, 'not an ELF file');
    const outcome = loadWithAddonAt(bogus);
    assert.equal(outcome.code, 'ERR_NATIVE_ADDON');
    assert.match(outcome.message ?? '', /could not be loaded.*npm run build:native/);
  });

  it('says the addon was built for another Node.js when the ABI differs', () => {
    const abiError = new Error("The module '/x/moondream_ggml.node' was compiled against a different Node.js version using " +
      'NODE_MODULE_VERSION 108. This version of Node.js requires NODE_MODULE_VERSION 115.');
    const error = explainLoadFailure(indexJs, abiError);
    assert.equal(error.code, 'ERR_NATIVE_ADDON');
    assert.match(error.message, /built for another Node\.js version.*npm run build:native/);
  });
});
