// md.encodeImage: decode + Pillow-exact preprocessing + the vision tower, in one call.
import assert from 'node:assert/strict';
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EncodedImage, Moondream, preprocessImage, readGgufInfo, writeGguf, type GgufMetadataEntry } from '../../src/index.js';
import type { GgmlTypeName } from '../../src/gguf/ggml-types.js';
import { tempDir } from '../helpers/temp-dir.js';
import { tinyPair } from '../helpers/tiny-model.js';

const dir = tempDir();

/** A copy of `mmproj` whose metadata went through `edit` (tensors unchanged). */
async function editedMmproj(mmproj: string, name: string, edit: (m: GgufMetadataEntry) => GgufMetadataEntry): Promise<string> {
  const info = await readGgufInfo(mmproj);
  const bytes = readFileSync(mmproj);
  const out = join(dir, name);
  await writeGguf(out, info.metadata.map(edit), info.tensors.map((t) => ({
    name: t.name, type: t.type as GgmlTypeName, shape: t.shape,
    data: bytes.subarray(info.dataOffset + t.offset, info.dataOffset + t.offset + t.size),
  })));
  return out;
}

const fixture = fileURLToPath(new URL('../../../test/fixtures/images/smooth_600x450.png', import.meta.url));

describe('Moondream.encodeImage', () => {
  it('gives 729 rows of the text width, equal to encoding the preprocessed pixels', async () => {
    const pair = await tinyPair('f16', 'f16');
    const md = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 2 });
    try {
      const image = await md.encodeImage(readFileSync(fixture));
      assert.ok(image instanceof EncodedImage);
      assert.equal(image.rows, 729);
      assert.equal(image.width, 128);
      assert.equal(image.embeddings.length, 729 * 128);
      assert.ok(image.timings.encodeMs > 0 && image.timings.totalMs >= image.timings.encodeMs);
      const direct = await md.encodePixels(await preprocessImage(fixture));
      assert.deepEqual(image.embeddings, direct.embeddings);
    } finally {
      md.dispose();
    }
  });

  it('refuses without an mmproj, and honours an already aborted signal', async () => {
    const pair = await tinyPair('f16', 'f16');
    const textOnly = await Moondream.load({ text: pair.textPath });
    await assert.rejects(textOnly.encodeImage(fixture), { code: 'ERR_INVALID_ARGUMENT', message: /without its mmproj/ });
    textOnly.dispose();
    const md = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath });
    await assert.rejects(md.encodeImage(fixture, { signal: AbortSignal.abort() }), { code: 'ERR_ABORTED' });
    await assert.rejects(md.encodeImage(Buffer.from('not an image')), { code: 'ERR_IMAGE_DECODE' });
    md.dispose();
  });

  it('normalises with the mean and std of the mmproj, not moondream1\'s fixed 0.5', async () => {
    const pair = await tinyPair('f16', 'f16');
    const mean = [0.25, 0.5, 0.75];
    const std = [0.2, 0.4, 0.6];
    const mmproj = await editedMmproj(pair.mmprojPath, 'mean-std.gguf', (m) =>
      m.key === 'clip.vision.image_mean' ? { key: m.key, type: 'array', itemType: 'float32', value: mean }
        : m.key === 'clip.vision.image_std' ? { key: m.key, type: 'array', itemType: 'float32', value: std } : m);
    const md = await Moondream.load({ text: pair.textPath, mmproj }, { threads: 2 });
    try {
      assert.deepEqual(md.info.vision?.imageMean, mean.map(Math.fround));
      assert.deepEqual(md.info.vision?.imageStd, std.map(Math.fround));
      const image = await md.encodeImage(fixture);
      const own = await md.encodePixels(await preprocessImage(fixture, md.info.vision!));
      const moondream1 = await md.encodePixels(await preprocessImage(fixture));
      assert.deepEqual(image.embeddings, own.embeddings);
      assert.notDeepEqual(image.embeddings, moondream1.embeddings);
    } finally {
      md.dispose();
    }
  });

  it('refuses a file that asks for a resize mode other than stretch', async () => {
    const pair = await tinyPair('f16', 'f16');
    const mmproj = await editedMmproj(pair.mmprojPath, 'letterbox.gguf', (m) =>
      m.key === 'moondream.vision.resize' ? { key: m.key, type: 'string', value: 'letterbox' } : m);
    await assert.rejects(Moondream.load({ text: pair.textPath, mmproj }),
      { code: 'ERR_MODEL_FORMAT', message: /moondream\.vision\.resize.*"letterbox".*only implements "stretch"/ });
  });
});

/** Resident KiB of each of this process's mappings of `path`, by address range (/proc/self/smaps). */
function residentKib(path: string): Map<string, number> {
  const out = new Map<string, number>();
  let range: string | undefined;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) range = line.endsWith(` ${realpathSync(path)}`) ? line.split(' ')[0] : undefined;
    else if (range !== undefined && line.startsWith('Rss:')) out.set(range, (out.get(range) ?? 0) + Number(line.split(/\s+/)[1]));
  }
  return out;
}

describe('releaseVisionWeights', () => {
  it('keeps the mmproj mapped between encodes by default, and hands its pages back after each encode when true, with the same embeddings', async () => {
    const pair = await tinyPair('q8_0', 'f16');
    const kept = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 2 });
    const keptRanges = new Set(residentKib(pair.mmprojPath).keys());
    const released = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 2, releaseVisionWeights: true });
    try {
      const a = await kept.encodeImage(fixture);
      const b = await released.encodeImage(fixture);
      const resident = [...residentKib(pair.mmprojPath)];
      const keptKib = resident.filter(([range]) => keptRanges.has(range)).reduce((sum, [, kib]) => sum + kib, 0);
      const releasedKib = resident.filter(([range]) => !keptRanges.has(range)).reduce((sum, [, kib]) => sum + kib, 0);
      const fileKib = statSync(pair.mmprojPath).size / 1024;
      assert.ok(keptKib > 0.5 * fileKib, `kept: ${keptKib} of the file's ${fileKib.toFixed(0)} KiB resident`);
      // At most the partial page at the file's end, which release does not touch.
      assert.ok(releasedKib <= 4, `released: ${releasedKib} KiB still resident`);
      assert.deepEqual(b.embeddings, a.embeddings);
      // The next encode maps the released weights back, and gives the same embeddings again.
      assert.deepEqual((await released.encodeImage(fixture)).embeddings, a.embeddings);
    } finally {
      kept.dispose();
      released.dispose();
    }
  });

  it('must be a boolean', async () => {
    const pair = await tinyPair('q8_0', 'f16');
    await assert.rejects(Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { releaseVisionWeights: 'yes' as unknown as boolean }),
      { code: 'ERR_INVALID_ARGUMENT' });
  });
});
