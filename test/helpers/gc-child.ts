// Child half of the garbage-collection test: starts work on a model, drops every reference to
// the model and the image, forces collections while the work runs, and reports the outcome.
import { Moondream } from '../../src/index.js';

const [text, mmproj, image] = process.argv.slice(2) as [string, string, string];
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

async function start(): Promise<Promise<string>> {
  const md = await Moondream.load({ text, mmproj }, { threads: 2 });
  const encoded = await md.encodeImage(image);
  return md.answerQuestion(encoded, 'What is this?', { maxTokens: 200 });
}

const pending = await start();  // nothing references the model or the image any more
const collector = setInterval(() => gc(), 1);
const answer = await pending;
clearInterval(collector);
for (let i = 0; i < 5; i++) {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 10));
}
console.log(JSON.stringify({ ok: true, length: answer.length }));
