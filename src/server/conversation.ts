// Chat messages (OpenAI's or Ollama's, normalised) to moondream1's shape: one image, earlier
// user/assistant turns as "Question/Answer" history, the last user message as the question.
import type { ChatTurn } from '../prompt.js';
import { badRequest } from './http-error.js';

export interface PlainMessage {
  role: string;
  text: string;
  /** Image references (URLs or base64) in the order they appear. */
  images: string[];
}

export interface Conversation {
  question: string;
  history: ChatTurn[];
  /** Every image reference in the conversation; the first one is the image. */
  images: string[];
}

/** System and developer messages are dropped: moondream1 was not trained with a system prompt. */
const IGNORED_ROLES = new Set(['system', 'developer']);

export function toConversation(messages: readonly PlainMessage[], captionQuestion: string, param = 'messages'): Conversation {
  const images: string[] = [];
  const history: ChatTurn[] = [];
  let pending: string[] = [];
  let lastRole: string | undefined;
  messages.forEach((message, i) => {
    if (IGNORED_ROLES.has(message.role)) return;
    images.push(...message.images);
    if (message.role === 'user') {
      pending.push(message.text);
    } else if (message.role === 'assistant') {
      if (pending.length === 0) throw badRequest(`${param}[${i}] is an assistant message that answers no user message`, `${param}[${i}]`);
      history.push({ question: joinText(pending), answer: message.text });
      pending = [];
    } else {
      throw badRequest(`${param}[${i}] has role "${message.role}", which moondream cannot take (it has no tools); use system, user or assistant`, `${param}[${i}].role`);
    }
    lastRole = message.role;
  });
  if (lastRole !== 'user') throw badRequest(`The last message must be from the user (it holds the question)`, param);
  if (images.length === 0) {
    throw badRequest('moondream answers questions about an image, and this conversation has none: add an image_url content part (a data:image/...;base64 URL)', param, 'image_required');
  }
  const question = joinText(pending);
  return { question: question === '' ? captionQuestion : question, history, images };
}

function joinText(parts: readonly string[]): string {
  return parts.map((p) => p.trim()).filter(Boolean).join('\n');
}
