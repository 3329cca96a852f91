/** Stable error codes. They are part of the public API: match on `error.code`, not on messages. */
export type MoondreamErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_MODEL_FORMAT'
  | 'ERR_IO'
  /** Fetching model files failed: HTTP status, network, or a size/sha256 mismatch. */
  | 'ERR_DOWNLOAD'
  | 'ERR_OUT_OF_MEMORY'
  | 'ERR_ABORTED'
  | 'ERR_DISPOSED'
  | 'ERR_CONTEXT_OVERFLOW'
  | 'ERR_IMAGE_DECODE'
  | 'ERR_NATIVE_ADDON'
  | 'ERR_INTERNAL';

const KNOWN_CODES: ReadonlySet<string> = new Set<MoondreamErrorCode>([
  'ERR_INVALID_ARGUMENT', 'ERR_MODEL_FORMAT', 'ERR_IO', 'ERR_OUT_OF_MEMORY', 'ERR_ABORTED',
  'ERR_DISPOSED', 'ERR_CONTEXT_OVERFLOW', 'ERR_IMAGE_DECODE', 'ERR_NATIVE_ADDON', 'ERR_INTERNAL',
]);

/** Every error this package throws or rejects with. */
export class MoondreamError extends Error {
  readonly code: MoondreamErrorCode;

  constructor(code: MoondreamErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MoondreamError';
    this.code = code;
  }
}

/** Rewraps an error from the native addon (a plain Error with a `code`) as a MoondreamError. */
export function fromNativeError(error: unknown): MoondreamError {
  if (error instanceof MoondreamError) return error;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && KNOWN_CODES.has(code)) {
      return new MoondreamError(code as MoondreamErrorCode, error.message);
    }
    return new MoondreamError('ERR_INTERNAL', error.message, { cause: error });
  }
  return new MoondreamError('ERR_INTERNAL', String(error));
}

/** "Expected X for Y but received Z": the one shape of every argument error. */
export function invalidArgument(what: string, expected: string, received: unknown): MoondreamError {
  return new MoondreamError('ERR_INVALID_ARGUMENT', `Expected ${expected} for ${what} but received ${describe(received)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return value.length > 40 ? `a string of length ${value.length}` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'function') return 'a function';
  return `an object (${Object.prototype.toString.call(value).slice(8, -1)})`;
}
