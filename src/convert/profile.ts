// moondream1's behaviour that llama.cpp's keys cannot express, written under `moondream.*` so
// our runtime is faithful to the reference (design §3; spec §7). The runtime reads these back;
// the keys themselves are in the names table (src/gguf/names.ts).

export const MOONDREAM1_LICENSE = 'research only, no commercial use';
/** The Hugging Face revision of vikhyatk/moondream1 whose layout the converter targets (spec §5.3). */
export const MOONDREAM1_REVISION = 'f6e9da68e8f1b78b8f3ee10905d56826db7a5802';

export const MOONDREAM1_PROMPT = {
  /** `{image}` marks where the 729 image rows go; text on each side is tokenized separately. */
  template: '<image>{image}</image>\n\n{history}Question: {question}\n\nAnswer: ',
  /** One finished turn of chat history. */
  historyTurn: 'Question: {question}\n\nAnswer: {answer}\n\n',
  /** The fixed question caption() asks (moondream1 has no caption head). */
  captionQuestion: 'Describe this image.',
  bosTokenId: 50256,
  /** `<`, `END`, `>`: generation stops at the first of these (spec §7.3). */
  stopTokenIds: [27, 10619, 29],
  maxNewTokens: 256,
  /** Stripped from the end of an answer, in this order, then whitespace (spec §7.3). */
  stripSuffixes: ['END', '<'],
} as const;
