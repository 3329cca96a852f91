// The packed-weight cache (packedWeightCache): a load writes the weights it repacked for our int8
// kernels to a file, the next load of the same model file maps that file instead of repacking,
// and anything stale or damaged is repacked and replaced, never used.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, openSync, readdirSync, readSync, statSync, truncateSync, utimesSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Moondream, ggmlInfo } from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { tinyPair } from '../helpers/tiny-model.js';

const prompt = [50256, 27, 9060, 29, 1867, 318, 262, 3290, 30, 198, 50, 262, 1110, 318, 257, 1402, 11, 290, 262, 6766, 318, 4171, 13, 198];

// Our int8 kernels (AVX-512 VNNI or AVX2) are what the cache holds; without them nothing is packed.
const packsHere = () => ggmlInfo().kernels.some((k) => (k.name === 'vnni_matrix' || k.name === 'int8_matrix_avx2') && k.chosen);

/** Logits of the prompt and of one more position, from a model loaded with `options`. */
async function logitsAndUse(text: string, options: Parameters<typeof Moondream.load>[1]): Promise<{ logits: number[][]; use: string }> {
  const model = await Moondream.load({ text }, { threads: 2, ...options });
  try {
    const logits = [Array.from(await model.evaluate(prompt)), Array.from(await model.evaluate([50256]))];
    return { logits, use: model.info.packedCache.text };
  } finally {
    model.dispose();
  }
}

function packedFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.packed'));
}

function onlyFile(dir: string): string {
  const files = packedFiles(dir);
  assert.equal(files.length, 1, files.join(', '));
  return files[0] as string;
}

/** A copy of a tiny text model in a folder of its own (the cache is keyed by the model's path). */
async function modelCopy(type: 'q8_0' | 'q4_0'): Promise<string> {
  const copy = join(tempDir('moondream-packed-model-'), `tiny-${type}.gguf`);
  copyFileSync((await tinyPair(type)).textPath, copy);
  return copy;
}

describe('the packed-weight cache', () => {
  it('writes the repacked weights on the first load and maps them on the next, with the same logits bit for bit', async (t) => {
    if (!packsHere()) return t.skip('no int8 kernel of ours runs on this CPU: nothing is packed');
    for (const type of ['q8_0', 'q4_0'] as const) {
      const text = await modelCopy(type);
      const cache = tempDir('moondream-packed-cache-');
      const uncached = await logitsAndUse(text, { packedWeightCache: false });
      assert.equal(uncached.use, '', 'packedWeightCache: false uses no cache');
      const first = await logitsAndUse(text, { packedWeightCache: cache });
      assert.match(first.use, /^written .*\.packed \(no cache file yet\)$/, type);
      assert.equal(packedFiles(cache).length, 1);
      const second = await logitsAndUse(text, { packedWeightCache: cache });
      assert.match(second.use, /^loaded /, type);
      assert.deepEqual(first.logits, uncached.logits, `${type}: packed into the cache file`);
      assert.deepEqual(second.logits, uncached.logits, `${type}: mapped from the cache file`);
      // Nothing left behind but the one file.
      assert.deepEqual(readdirSync(cache), packedFiles(cache));
    }
  });

  it('repacks and replaces a file that is damaged, truncated, or older than the model file', async (t) => {
    if (!packsHere()) return t.skip('no int8 kernel of ours runs on this CPU: nothing is packed');
    const text = await modelCopy('q8_0');
    const cache = tempDir('moondream-packed-cache-');
    const expected = (await logitsAndUse(text, { packedWeightCache: false })).logits;
    await logitsAndUse(text, { packedWeightCache: cache });
    const file = join(cache, onlyFile(cache));
    const size = statSync(file).size;

    // One packed byte flipped, far into the weights: the hash of the contents catches it.
    const fd = openSync(file, 'r+');
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, size - 100);
    byte.writeUInt8(byte.readUInt8(0) ^ 0x40, 0);
    writeSync(fd, byte, 0, 1, size - 100);
    closeSync(fd);
    let next = await logitsAndUse(text, { packedWeightCache: cache });
    assert.match(next.use, /^written .*\(the cache file's packed weights are damaged\)$/);
    assert.deepEqual(next.logits, expected);
    assert.match((await logitsAndUse(text, { packedWeightCache: cache })).use, /^loaded /);

    truncateSync(file, size - 4096);
    next = await logitsAndUse(text, { packedWeightCache: cache });
    assert.match(next.use, /^written .*\(the cache file is truncated\)$/);
    assert.deepEqual(next.logits, expected);

    writeFileSync(file, 'not a cache file at all, but long enough to hold a header? no.');
    next = await logitsAndUse(text, { packedWeightCache: cache });
    assert.match(next.use, /^written .*\(the cache file is truncated\)$/);

    // The model file rewritten in place (a new modification time): the cache is stale.
    const later = new Date(Date.now() + 60_000);
    utimesSync(text, later, later);
    next = await logitsAndUse(text, { packedWeightCache: cache });
    assert.match(next.use, /^written .*\(the model file changed since the cache file was written\)$/);
    assert.deepEqual(next.logits, expected);
    assert.equal(packedFiles(cache).length, 1);
  });

  it('removes cache files whose model file is gone when it writes a new one', async (t) => {
    if (!packsHere()) return t.skip('no int8 kernel of ours runs on this CPU: nothing is packed');
    const cache = tempDir('moondream-packed-cache-');
    const gone = await modelCopy('q4_0');
    await logitsAndUse(gone, { packedWeightCache: cache });
    const goneFile = onlyFile(cache);
    execFileSync('rm', [gone]);
    // A stray temporary file of a writer that died (no process has pid 2^22 + 1 here).
    const stray = join(cache, `${goneFile}.tmp-4194305-1`);
    writeFileSync(stray, 'partial');
    const unrelated = join(cache, 'notes.txt');
    writeFileSync(unrelated, 'left alone');
    await logitsAndUse(await modelCopy('q8_0'), { packedWeightCache: cache });
    assert.equal(existsSync(join(cache, goneFile)), false, 'the gone model\'s file is removed');
    assert.equal(existsSync(stray), false, 'the dead writer\'s temporary file is removed');
    assert.equal(existsSync(unrelated), true);
    assert.equal(packedFiles(cache).length, 1);
  });

  it('loads without a cache where the directory cannot be written, and says why', async (t) => {
    if (!packsHere()) return t.skip('no int8 kernel of ours runs on this CPU: nothing is packed');
    const text = await modelCopy('q8_0');
    const expected = (await logitsAndUse(text, { packedWeightCache: false })).logits;
    const blocker = join(tempDir('moondream-packed-cache-'), 'a-file');
    writeFileSync(blocker, '');
    const next = await logitsAndUse(text, { packedWeightCache: join(blocker, 'packed') });
    assert.match(next.use, /^not written: cannot create '.*a-file\/packed': /);
    assert.deepEqual(next.logits, expected);
  });

  it('is off with MOONDREAM_DISABLE_PACKED_CACHE=1, and lives in MOONDREAM_PACKED_CACHE_DIR by default', async (t) => {
    if (!packsHere()) return t.skip('no int8 kernel of ours runs on this CPU: nothing is packed');
    const text = await modelCopy('q4_0');
    const cache = tempDir('moondream-packed-cache-');
    const saved = process.env.MOONDREAM_PACKED_CACHE_DIR;
    process.env.MOONDREAM_PACKED_CACHE_DIR = cache;
    try {
      process.env.MOONDREAM_DISABLE_PACKED_CACHE = '1';
      const off = await logitsAndUse(text, {}).finally(() => delete process.env.MOONDREAM_DISABLE_PACKED_CACHE);
      assert.equal(off.use, '');
      assert.deepEqual(packedFiles(cache), []);
      assert.match((await logitsAndUse(text, {})).use, new RegExp(`^written ${cache}/`));
    } finally {
      if (saved === undefined) delete process.env.MOONDREAM_PACKED_CACHE_DIR;
      else process.env.MOONDREAM_PACKED_CACHE_DIR = saved;
    }
  });

  it('serves loads that race to write the same file', async (t) => {
    if (!packsHere()) return t.skip('no int8 kernel of ours runs on this CPU: nothing is packed');
    const text = await modelCopy('q8_0');
    const cache = tempDir('moondream-packed-cache-');
    const expected = (await logitsAndUse(text, { packedWeightCache: false })).logits;
    const results = await Promise.all([0, 1, 2].map(() => logitsAndUse(text, { packedWeightCache: cache })));
    for (const r of results) assert.deepEqual(r.logits, expected);
    assert.deepEqual(readdirSync(cache), packedFiles(cache));
    assert.equal(packedFiles(cache).length, 1);
    assert.match((await logitsAndUse(text, { packedWeightCache: cache })).use, /^loaded /);
  });

  it('rejects a packedWeightCache that is neither a directory path nor false', async () => {
    const { textPath } = await tinyPair('q4_0');
    for (const bad of ['', true, 0, {}]) {
      await assert.rejects(Moondream.load({ text: textPath }, { packedWeightCache: bad as unknown as string }), {
        code: 'ERR_INVALID_ARGUMENT',
        message: /options\.packedWeightCache/,
      });
    }
  });
});
