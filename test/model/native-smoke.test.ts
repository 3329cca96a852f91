// The Node twin of native/test/runtime_smoke.cpp: the same question about the same raw image,
// answered through the public API, must give the tokens and answer of
// test/fixtures/golden/native-smoke.json (the numpy reference's greedy decoding,
// scripts/golden/native_smoke.py). One golden for both runtimes, so they cannot drift apart.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { Moondream } from '../../src/index.js';
import { buildPrompt } from '../../src/prompt.js';
import type { TextType, VisionType } from '../../src/convert/quant-types.js';
import { TINY_SEED, tinyCheckpoint, tinyPair } from '../helpers/tiny-model.js';

const GOLDEN_DIR = fileURLToPath(new URL('../../../test/fixtures/golden/', import.meta.url));

interface NativeSmoke {
  regenerate: string;
  checkpoint: { seed: number; modelSha256: string };
  model: { textType: TextType; visionType: VisionType; kvCacheType: 'f16' | 'f32'; gelu: 'exact' | 'fast' };
  image: { file: string; width: number; height: number; sha256: string };
  question: string;
  prompt: { prefix: number[]; suffix: number[] };
  maxTokens: number;
  expected: { tokens: number[]; stoppedByToken: boolean; answer: string };
}

const fixture = JSON.parse(readFileSync(join(GOLDEN_DIR, 'native-smoke.json'), 'utf8')) as NativeSmoke;
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('the native smoke golden through the Node API', () => {
  let md: Moondream;

  before(async () => {
    assert.equal(fixture.checkpoint.seed, TINY_SEED, 'the golden was made from another seed than the tests\' tiny model');
    const model = readFileSync(join(await tinyCheckpoint(), 'model.safetensors'));
    if (sha256(model) !== fixture.checkpoint.modelSha256) {
      throw new Error(`The checkpoint generator changed; regenerate the golden (${fixture.regenerate}).`);
    }
    const pair = await tinyPair(fixture.model.textType, fixture.model.visionType);
    md = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath },
      { kvCacheType: fixture.model.kvCacheType, gelu: fixture.model.gelu, threads: 2 });
  });
  after(() => md?.dispose());

  it('builds the prompt the golden (and the C++ build_prompt) uses', () => {
    const { prefix, suffix } = buildPrompt(md.info.prompt, (t) => md.tokenize(t), fixture.question);
    assert.deepEqual(Array.from(prefix), fixture.prompt.prefix);
    assert.deepEqual(Array.from(suffix), fixture.prompt.suffix);
  });

  it('answers with the reference\'s greedy tokens and answer', async () => {
    const rgb = readFileSync(join(GOLDEN_DIR, fixture.image.file));
    assert.equal(sha256(rgb), fixture.image.sha256);
    // encodeImage takes encoded images: a lossless PNG of the raw pixels decodes back to them.
    const png = await sharp(rgb, { raw: { width: fixture.image.width, height: fixture.image.height, channels: 3 } }).png().toBuffer();
    const image = await md.encodeImage(png);
    const pieces: string[] = [];
    const answer = await md.answer(image, fixture.question, { maxTokens: fixture.maxTokens, onPiece: (p) => pieces.push(p) });
    assert.deepEqual(answer.tokens, fixture.expected.tokens);
    assert.equal(answer.text, fixture.expected.answer);
    assert.equal(pieces.join(''), answer.text);
  });
});
