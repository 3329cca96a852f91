// The one place the server meets the model's API. The pool holds ServingSessions made by a
// factory; everything above speaks `onPiece`, so adopting MoondreamSession is a change here only.
import type { Answer, AnswerOptions, Moondream } from '../Moondream.js';
import type { EncodedImage } from '../EncodedImage.js';
import type { ImageInput } from '../image.js';

export interface ServingAnswerOptions extends Omit<AnswerOptions, 'onToken'> {
  /** Each piece of the answer as soon as it is certain; the pieces concatenate to the answer. */
  onPiece?: (piece: string) => void;
}

/** What the server needs of a session: a subset of the methods Moondream (and MoondreamSession) have. */
export interface ServingSession {
  encodeImage(input: ImageInput, options?: { signal?: AbortSignal; maxPixels?: number }): Promise<EncodedImage>;
  answer(image: EncodedImage, question: string, options?: ServingAnswerOptions): Promise<Answer>;
  dispose(): void;
}

/**
 * Session factory over a loaded model. Today every session is the model itself: Moondream
 * serialises its calls and keeps one image-prefix cache, so `--parallel` above 1 only queues
 * inside the model. When Moondream.createSession() lands, replace the body with:
 *   return () => md.createSession(sessionOptions);   // MoondreamSession takes onPiece natively
 */
export function modelSessionFactory(md: Moondream): () => ServingSession {
  return () => ({
    encodeImage: (input, options) => md.encodeImage(input, options),
    answer: (image, question, options = {}) => {
      const { onPiece, ...rest } = options;
      return md.answer(image, question, onPiece === undefined ? rest : { ...rest, onToken: onPiece });
    },
    // The model is disposed by the server, not by each session.
    dispose: () => undefined,
  });
}
