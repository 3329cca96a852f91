// The converter's file names for the GGUF pair, defined once for everything that writes, finds or
// documents them: moondream1-text-model-<type>.gguf and moondream1-mmproj-<type>.gguf.

export type ModelFileKind = 'text' | 'mmproj';

const PREFIX: Readonly<Record<ModelFileKind, string>> = { text: 'moondream1-text-model-', mmproj: 'moondream1-mmproj-' };
const EXTENSION = '.gguf';
// The type part as the converter writes it (lower-cased ggml type names: f16, q4_0, q4_k, ...).
const TYPE_PART = /^[a-z0-9_]+$/i;

/** The file name of one half of the pair: ('text', 'q4_K') -> 'moondream1-text-model-q4_k.gguf'. */
export function modelFileName(kind: ModelFileKind, type: string): string {
  return `${PREFIX[kind]}${type.toLowerCase()}${EXTENSION}`;
}

/** How the name reads in messages and help: 'moondream1-text-model-<type>.gguf', '...-*.gguf'. */
export function modelFilePattern(kind: ModelFileKind, placeholder = '*'): string {
  return `${PREFIX[kind]}${placeholder}${EXTENSION}`;
}

/** Which half of a pair `name` (a file name, not a path) is by the converter's convention, if any. */
export function modelFileKind(name: string): ModelFileKind | undefined {
  if (!name.toLowerCase().endsWith(EXTENSION)) return undefined;
  for (const kind of ['text', 'mmproj'] as const) {
    const prefix = PREFIX[kind];
    if (name.length > prefix.length && name.slice(0, prefix.length).toLowerCase() === prefix &&
      TYPE_PART.test(name.slice(prefix.length, -EXTENSION.length))) return kind;
  }
  return undefined;
}
