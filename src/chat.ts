// A conversation about one image in moondream1's format: every finished turn is prepended to the
// next question as "Question: ...\n\nAnswer: ...\n\n".
import type { Answer, AnswerOptions } from './api-types.js';
import type { ChatTurn } from './prompt.js';

type AskFn = (question: string, history: readonly ChatTurn[], options?: Omit<AnswerOptions, 'history'>) => Promise<Answer>;

export class ChatSession {
  private readonly turns: ChatTurn[] = [];

  /** @internal */
  constructor(private readonly askWithHistory: AskFn) {}

  /** The finished turns so far. */
  get history(): readonly ChatTurn[] {
    return [...this.turns];
  }

  async ask(question: string, options?: Omit<AnswerOptions, 'history'>): Promise<string> {
    const answer = await this.askWithHistory(question, this.turns, options);
    this.turns.push({ question, answer: answer.text });
    return answer.text;
  }

  /** Forgets the history (the image stays). */
  reset(): void {
    this.turns.length = 0;
  }
}
