// How each generated moondream1 tensor is drawn: mean + std * N(0, 1), by the tensor's role.
//
// The goal is a random model that behaves like a trained one where our tests look: activations of
// order 1 in every layer of both towers, and a PEAKED next-token distribution, so parity tests
// compare confident argmaxes rather than ties in a flat distribution (with std 0.02 everywhere the
// top probability is ~0.0006). The choices, and why:
//
// - LayerNorm weight 1 + N(0, 0.02), bias N(0, 0.02): LN outputs stay of unit scale, as trained
//   ones roughly are; the small spread still makes each channel's parameter matter in parity tests.
// - Matrices reading a normalised (unit-scale) input: std 1/sqrt(fan_in), so each output is ~N(0, 1)
//   (He/Xavier-like). For attention this gives scores q.k/sqrt(head_dim) of std ~1: attention that
//   is neither uniform nor one-hot.
// - Matrices writing into the residual stream (vision attn.proj and mlp.fc2, text out_proj and
//   mlp.fc2): gain 0.5 / sqrt(fan_in). Each branch then adds rms ~0.3-0.4 per block, and a numpy
//   forward of the generated full model measured the residual rms growing from 1.0 to 2.65 over
//   the 24 text layers and from 0.76 to 2.4 over the 27 vision blocks (gain 1 would roughly double
//   that): the embeddings keep a say in the output, and nothing approaches f16's range.
// - Linear biases N(0, 0.02): small against outputs of std ~1.
// - patch_embed: 1/sqrt(588) on pixels in [-1, 1] (rms ~0.6) gives patch features of std ~0.6;
//   pos_embed std 0.5 adds a comparable positional signal.
// - Projector fc2: gain 1.5 / sqrt(fan_in). Its input is GELU of ~N(0, 1) (rms 0.652), so image
//   rows come out with std ~1, like the wte rows they sit next to in the text model's input.
// - wte std 1: the text model's input is unit scale per element, like a trained embedding after LN.
// - lm_head.linear: std 5 / sqrt(n_embd). Its input is the final LN's output, of rms ~1, so the
//   logits are i.i.d. N(0, 25) across the vocabulary for any given hidden state. Sampling 51,200
//   such logits gives a median top probability of ~0.30 (std 4: ~0.19; std 6: ~0.46), and this
//   holds equally for the tiny and the full model, whose final hidden state is normalised alike.
//   Measured on generated checkpoints (numpy forward, 14-token prompt): logit std 5.0 at every
//   position; top probability 0.13-0.94 (median ~0.4) for tiny and 0.12-0.98 (median ~0.43) for full.
import type { Moondream1Dims } from '../../src/convert/moondream1-layout.js';
import { PROJECTION_PREFIX, TEXT_PREFIX, VISION_PREFIX } from '../../src/convert/moondream1-layout.js';

export interface NormalInit {
  readonly mean: number;
  readonly std: number;
}

export const LAYER_NORM_SPREAD = 0.02;
export const BIAS_STD = 0.02;
export const RESIDUAL_WRITE_GAIN = 0.5;
/** 1 / rms(GELU(N(0, 1))) ~ 1 / 0.652, rounded. */
export const PROJECTOR_OUTPUT_GAIN = 1.5;
export const POS_EMBED_STD = 0.5;
export const TOKEN_EMBEDDING_STD = 1;
/** Target std of the logits; see the header comment. */
export const LOGIT_STD = 5;

const LAYER_NORM_WEIGHT = /(\.norm1|\.norm2|visual\.norm|\.ln)\.weight$/;
const RESIDUAL_WRITE = /(\.attn\.proj|\.mixer\.out_proj|\.mlp\.fc2)\.weight$/;
const READS_NORMALISED = /(\.attn\.qkv|\.mixer\.Wqkv|\.mlp\.fc1)\.weight$/;

/** The distribution of one tensor; throws for a name it has no rule for, so new tensors get a decision. */
export function moondream1Init(name: string, shape: readonly number[], dims: Moondream1Dims): NormalInit {
  const fanIn = (): number => 1 / Math.sqrt(shape[shape.length - 1]!);
  if (name.endsWith('.bias')) return { mean: 0, std: BIAS_STD }; // LayerNorm biases too
  if (LAYER_NORM_WEIGHT.test(name)) return { mean: 1, std: LAYER_NORM_SPREAD };
  if (name === `${VISION_PREFIX}pos_embed`) return { mean: 0, std: POS_EMBED_STD };
  if (name === `${VISION_PREFIX}patch_embed.linear.weight`) return { mean: 0, std: fanIn() };
  if (name === `${PROJECTION_PREFIX}fc1.weight`) return { mean: 0, std: fanIn() };
  if (name === `${PROJECTION_PREFIX}fc2.weight`) return { mean: 0, std: PROJECTOR_OUTPUT_GAIN * fanIn() };
  if (name === `${TEXT_PREFIX}transformer.embd.wte.weight`) return { mean: 0, std: TOKEN_EMBEDDING_STD };
  if (name === `${TEXT_PREFIX}lm_head.linear.weight`) return { mean: 0, std: LOGIT_STD / Math.sqrt(dims.text.nEmbd) };
  if (RESIDUAL_WRITE.test(name)) return { mean: 0, std: RESIDUAL_WRITE_GAIN * fanIn() };
  if (READS_NORMALISED.test(name)) return { mean: 0, std: fanIn() };
  throw new Error(`No initialisation rule for tensor "${name}"`);
}
