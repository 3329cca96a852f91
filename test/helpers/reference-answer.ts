// moondream1's answer to a question about an encoded image, computed without answerQuestion's
// prompt assembly, decode loop, stop rules, streaming detokenizer or clean-up, so that tests can
// hold those to an exact expected result:
// - the prompt is spec §7.2 written out by hand: BOS 50256, "<image>" = [27, 9060, 29], the image
//   rows, then "</image>\n\nQuestion: {q}\n\nAnswer: " tokenized by js-tiktoken's GPT-2 encoding
//   (the same ids as moondream1's CodeGen tokenizer for text without runs of spaces or tabs);
// - greedy decoding re-evaluates the whole sequence from an empty context for every new token
//   (md.evaluate: one forward pass, no KV cache carried between steps, no sampler) and takes the
//   first arg-max of the logits, as torch.argmax does, stopping after 27, 10619 or 29 (spec §7.3);
// - the text is HF tokenizers' decode of the ids with <|endoftext|> skipped, then a trailing "END",
//   then a trailing "<" removed and whitespace stripped (spec §7.3).
// Exact equality with answerQuestion is only meaningful where greedy decoding is well conditioned:
// answerQuestion decodes incrementally through the f16 KV cache, which moves logits by a few 1e-3
// against a full re-evaluation (measured: a 0.0019 tie on the tiny model flipped a token). So the
// helper refuses a case in which any chosen token leads the runner-up by less than MIN_MARGIN; a
// test then fails with that message instead of flaking, and should pick another question or image.
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { Tiktoken } from 'js-tiktoken/lite';
import gpt2Ranks from 'js-tiktoken/ranks/gpt2';
import { codegenTokenizerJson } from '../../scripts/lib/gpt2-files.js';
import type { EncodedImage, MoondreamSession } from '../../src/index.js';

/** What the reference needs: one forward pass over tokens with image rows (a Moondream or a session). */
export type Evaluator = Pick<MoondreamSession, 'evaluate'>;

export const BOS = 50256;
export const IMAGE_OPEN = [27, 9060, 29];
export const STOP_IDS = [27, 10619, 29];
/** Smallest logit lead of each greedy choice over the runner-up that the reference accepts. */
export const MIN_MARGIN = 0.05;
/** Ids the tokenizer knows (50,257 GPT-2 + 38 whitespace runs); the model's other rows are unused fillers. */
const TOKENIZER_SIZE = 50295;

let tiktoken: Tiktoken | undefined;
let hf: HfTokenizer | undefined;

/** GPT-2 BPE ids of `text` (no special tokens). */
export function gpt2Ids(text: string): number[] {
  if (/ {2}|\t{2}|<\|endoftext\|>/.test(text)) throw new Error('GPT-2 and CodeGen ids differ for this text');
  tiktoken ??= new Tiktoken(gpt2Ranks);
  return tiktoken.encode(text, [], []);
}

/** The token ids after the image rows for a question without history (spec §7.1, §7.2). */
export function questionTail(question: string): number[] {
  return gpt2Ids(`</image>\n\nQuestion: ${question}\n\nAnswer: `);
}

/** moondream1's answer text for generated ids: HF decode, then spec §7.3's clean-up. */
export function answerText(ids: readonly number[]): string {
  hf ??= new HfTokenizer(codegenTokenizerJson(), {});
  const known = ids.filter((id) => id < TOKENIZER_SIZE);
  const text = hf.decode(known, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  return text.replace(/END$/, '').replace(/<$/, '').trim();
}

/** The first arg-max and its lead over the best other logit. */
function argmax(logits: Float32Array): { id: number; margin: number } {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  let second = -Infinity;
  for (let i = 0; i < logits.length; i++) if (i !== best && logits[i]! > second) second = logits[i]!;
  return { id: best, margin: logits[best]! - second };
}

export interface ReferenceAnswer {
  /** Generated ids, the stop token included. */
  tokens: number[];
  text: string;
  /** The smallest lead of a chosen token over the runner-up (at least MIN_MARGIN). */
  minMargin: number;
}

/** Greedy moondream1 answer by full re-evaluation, at most `maxTokens` new tokens. */
export async function referenceAnswer(md: Evaluator, image: EncodedImage, question: string, maxTokens: number): Promise<ReferenceAnswer> {
  const before = [BOS, ...IMAGE_OPEN];
  const prompt = [...before, ...questionTail(question)];
  const tokens: number[] = [];
  let minMargin = Infinity;
  while (tokens.length < maxTokens) {
    const { id, margin } = argmax(await md.evaluate([...prompt, ...tokens], { image, imageAt: before.length }));
    if (margin < MIN_MARGIN) {
      throw new Error(`The reference answer to ${JSON.stringify(question)} has a near tie at token ${tokens.length + 1} ` +
        `(lead ${margin.toExponential(2)} < ${MIN_MARGIN}): exact comparison would test rounding, not the code. Pick another case.`);
    }
    minMargin = Math.min(minMargin, margin);
    tokens.push(id);
    if (STOP_IDS.includes(id)) break;
  }
  return { tokens, text: answerText(tokens), minMargin };
}
