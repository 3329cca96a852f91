// The text GGUF's tokenizer.chat_template, rendered by an independent Jinja implementation
// (@huggingface/jinja) with the messages llama.cpp passes it, must give moondream1's prompt
// exactly as the profile's own template and our prompt builder do.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Template } from '@huggingface/jinja';
import { MOONDREAM1_CHAT_TEMPLATE } from '../../src/convert/chat-template.js';
import { MOONDREAM1_PROMPT } from '../../src/convert/profile.js';
import { readGgufInfo } from '../../src/gguf/read.js';
import { fillTemplate } from '../../src/prompt.js';
import { tinyPair } from '../helpers/tiny-model.js';

const BOS = '<|endoftext|>';
const render = (messages: { role: string; content: string }[], addGenerationPrompt = true) =>
  new Template(MOONDREAM1_CHAT_TEMPLATE).render({ messages, bos_token: BOS, eos_token: BOS, add_generation_prompt: addGenerationPrompt });

/** moondream1's prompt from the profile strings, with the image rows' place marked by `marker`. */
function moondreamPrompt(marker: string, question: string, history: { question: string; answer: string }[] = []): string {
  const historyText = history.map((t) => fillTemplate(MOONDREAM1_PROMPT.historyTurn, t)).join('');
  return BOS + fillTemplate(MOONDREAM1_PROMPT.template, { image: marker, history: historyText, question });
}

describe('tokenizer.chat_template', () => {
  for (const marker of ['<__media__>', '<__media_Xy12abCD__>']) {
    it(`renders moondream1's single-turn prompt with the marker ${marker}`, () => {
      // llama-mtmd-cli puts the marker before the prompt; llama-server where the image part was.
      assert.equal(render([{ role: 'user', content: `${marker}What is the title of this book?` }]), moondreamPrompt(marker, 'What is the title of this book?'));
      assert.equal(render([{ role: 'user', content: `What is this?${marker}` }]), moondreamPrompt(marker, 'What is this?'));
    });
  }

  it('renders earlier turns as moondream1 history, drops system messages, and braces stay literal', () => {
    const m = '<__media__>';
    const messages = [
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: `${m}Who is it?` },
      { role: 'assistant', content: 'A cat.' },
      { role: 'user', content: 'Is {question} here?' },
    ];
    assert.equal(render(messages), moondreamPrompt(m, 'Is {question} here?', [{ question: 'Who is it?', answer: 'A cat.' }]));
  });

  it('without an image renders no image tags', () => {
    assert.equal(render([{ role: 'user', content: 'Hi?' }]), `${BOS}Question: Hi?\n\nAnswer: `);
  });

  it('is written into the converted text GGUF', async () => {
    const info = await readGgufInfo((await tinyPair('q8_0', 'f16')).textPath);
    const entry = info.metadata.find((e) => e.key === 'tokenizer.chat_template');
    assert.ok(entry && entry.type === 'string');
    assert.equal(entry.value, MOONDREAM1_CHAT_TEMPLATE);
  });
});
