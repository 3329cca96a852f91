// 500 questions on the tiny model, with a fresh image every 25: resident memory and open file
// descriptors must stay within a small fixed bound once warmed up. The kept-prefix budget is made
// small (two tiny prefixes) so that its legitimate growth cannot hide a leak.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Moondream } from '../../src/index.js';
import { tinyPair } from '../helpers/tiny-model.js';

const IMAGE = fileURLToPath(new URL('../../../test/fixtures/images/photo_320x240_q90.jpg', import.meta.url));
const openFds = () => readdirSync('/proc/self/fd').length;
// A full collection before each sample, so JS garbage not yet collected does not look like a leak.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

describe('soak', () => {
  it('500 questions: RSS and open file descriptors stay bounded', async (t) => {
    const pair = await tinyPair('q4_0', 'f16');
    const md = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 2, prefixCacheBytes: 2 * 2 ** 20 });
    try {
      let image = await md.encodeImage(IMAGE);
      // RSS is sampled over a window of questions once warm and again at the end, and each
      // window's lowest sample is compared: a single sample moved by ±16-32 MiB between CI runs
      // (the compute buffers are handed back between uses and fault in again in huge pages, and
      // khugepaged collapses pages when it gets to them), while a leak raises every sample.
      const warmRss: number[] = [];
      const endRss: number[] = [];
      let warmFds = 0;
      for (let i = 0; i < 500; i++) {
        if (i % 25 === 0) image = await md.encodeImage(IMAGE);
        const pieces: string[] = [];
        const answer = await md.answerQuestion(image, `Question ${i}?`, { maxTokens: 8, onPiece: (p) => pieces.push(p) });
        assert.equal(pieces.join(''), answer);
        if ((i >= 100 && i < 125) || i >= 475) {
          collect();
          (i < 125 ? warmRss : endRss).push(process.memoryUsage().rss);
        }
        if (i === 100) warmFds = openFds();
      }
      const rssGrowth = Math.min(...endRss) - Math.min(...warmRss);
      const fdGrowth = openFds() - warmFds;
      t.diagnostic(`after 400 more questions: RSS ${(rssGrowth / 2 ** 20).toFixed(1)} MiB, file descriptors ${fdGrowth}`);
      assert.ok(rssGrowth < 16 * 2 ** 20, `RSS grew by ${(rssGrowth / 2 ** 20).toFixed(1)} MiB`);
      assert.ok(fdGrowth <= 2, `${fdGrowth} more open file descriptors`);
    } finally {
      md.dispose();
    }
  });
});
