// moondream's prompt from the model's profile (spec §7.1-7.2): BOS and the text before the image
// tokenized as one segment, the image rows, then the text after the image (history, question)
// tokenized as another; segments never merge across the image.
import { MoondreamError } from './errors.js';
import type { ModelInfo } from './model-info.js';

export interface ChatTurn {
  question: string;
  answer: string;
}

export interface PromptParts {
  prefix: Int32Array;
  suffix: Int32Array;
}

/** Replaces {name} placeholders in one pass, so braces inside user text are never expanded. */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? values[name]! : whole));
}

export function buildPrompt(
  profile: ModelInfo['prompt'],
  tokenize: (text: string) => number[],
  question: string,
  history: readonly ChatTurn[] = [],
): PromptParts {
  const marker = profile.template.indexOf('{image}');
  if (marker < 0) throw new MoondreamError('ERR_MODEL_FORMAT', 'The model prompt template has no {image} placeholder');
  const before = profile.template.slice(0, marker);
  const after = profile.template.slice(marker + '{image}'.length);
  const historyText = history.map((turn) => fillTemplate(profile.historyTurn, { question: turn.question, answer: turn.answer })).join('');
  const prefix = [...(profile.bosTokenId >= 0 ? [profile.bosTokenId] : []), ...(before ? tokenize(before) : [])];
  const suffix = tokenize(fillTemplate(after, { history: historyText, question }));
  return { prefix: Int32Array.from(prefix), suffix: Int32Array.from(suffix) };
}
