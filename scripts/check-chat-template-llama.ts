// node dist/scripts/check-chat-template-llama.js --bin <llama.cpp build/bin>
// Runs llama.cpp's llama-server and llama-mtmd-cli (built from the pinned bundle) on a converted
// tiny pair WITHOUT --chat-template: the GGUF's tokenizer.chat_template must give moondream1's
// prompt, so greedy answers equal ours token for token (same GELU arithmetic: gelu 'fast').
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { convertCheckpoint } from '../src/convert/convert.js';
import { Moondream } from '../src/index.js';
import { buildPrompt } from '../src/prompt.js';
import { writeMoondream1Checkpoint } from './lib/moondream1-checkpoint.js';

const IMAGE = new URL('../../test/fixtures/images/smooth_600x450.png', import.meta.url).pathname;
const QUESTION = 'What is the title of this book?';
const N = 12;

const { values } = parseArgs({ options: { bin: { type: 'string' }, port: { type: 'string', default: '18089' } } });
if (!values.bin) throw new Error('--bin <llama.cpp bin dir> is required');
const scratch = mkdtempSync(join(tmpdir(), 'moondream-llama-template-'));
try {
  await writeMoondream1Checkpoint({ size: 'tiny', seed: 7, outDir: join(scratch, 'hf') });
  const pair = await convertCheckpoint({ checkpointDir: join(scratch, 'hf'), outDir: join(scratch, 'gguf'), textType: 'f32', visionType: 'f32', threads: 2 });

  const md = await Moondream.load({ text: pair.textPath, mmproj: pair.mmprojPath }, { threads: 2, gelu: 'fast', kvCacheType: 'f32' });
  const image = await md.encodeImage(IMAGE);
  const ours = await md.answer(image, QUESTION, { maxTokens: N });
  const { prefix, suffix } = buildPrompt(md.info.prompt, (t) => md.tokenize(t), QUESTION);
  console.log(`ours: prompt = ${JSON.stringify(md.detokenize(Array.from(prefix)))} + <729 image rows> + ${JSON.stringify(md.detokenize(Array.from(suffix)))}`);
  console.log(`ours: answer (${ours.tokens.length} tokens) = ${JSON.stringify(ours.text)}`);
  md.dispose();

  // llama-mtmd-cli: greedy, N tokens, no --chat-template. --jinja: without it the CLI only matches
  // the file's template against llama.cpp's built-in ones and aborts on any other; with it, it
  // renders the file's own template (llama-server does so by default).
  const cli = spawnSync(join(values.bin, 'llama-mtmd-cli'), ['-m', pair.textPath, '--mmproj', pair.mmprojPath, '--image', IMAGE, '-p', QUESTION,
    '-n', String(N), '--temp', '0', '-t', '2', '-c', '2048', '--no-warmup', '--jinja'], { encoding: 'utf8', timeout: 600_000 });
  const cliText = cli.stdout.trim();
  console.log(`llama-mtmd-cli: exit ${cli.status}${cli.signal ? ` (${cli.signal})` : ''}${cli.error ? ` (${cli.error.message})` : ''}; answer = ${JSON.stringify(cliText)}`);
  if (cli.status !== 0) for (const line of cli.stderr.trim().split('\n').slice(-6)) console.log(`  ! ${line.trim()}`);
  for (const line of cli.stderr.split('\n')) if (/chat template|chat_template|image decoded|n_tokens/i.test(line)) console.log(`  | ${line.trim()}`);

  // llama-server with a fixed media marker so its rendered prompt can be shown.
  const server = spawn(join(values.bin, 'llama-server'), ['-m', pair.textPath, '--mmproj', pair.mmprojPath, '--host', '127.0.0.1', '--port', values.port!,
    '-t', '2', '-c', '2048', '--no-warmup'], { env: { ...process.env, LLAMA_MEDIA_MARKER: '<__media__>' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  server.stderr.setEncoding('utf8');
  server.stderr.on('data', (t: string) => { log += t; });
  const url = `http://127.0.0.1:${values.port}`;
  try {
    for (let i = 0; (await fetch(`${url}/health`).then((r) => r.status, () => 0)) !== 200; i++) {
      if (i > 1200 || server.exitCode !== null) throw new Error(`llama-server did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const line of log.split('\n')) if (/chat template|example_format|chat_format/i.test(line)) console.log(`  | ${line.trim()}`);
    const messages = [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${readFileSync(IMAGE).toString('base64')}` } }, { type: 'text', text: QUESTION }] }];
    const applied = await (await fetch(`${url}/apply-template`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages }) })).json() as { prompt: string };
    console.log(`llama-server /apply-template: ${JSON.stringify(applied.prompt)}`);
    const completion = await (await fetch(`${url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messages, max_tokens: N, temperature: 0 }),
    })).json() as { choices: { message: { content: string } }[]; usage: { prompt_tokens: number } };
    const serverText = completion.choices[0]!.message.content;
    console.log(`llama-server: prompt_tokens ${completion.usage.prompt_tokens}; answer = ${JSON.stringify(serverText)}`);
    console.log(`same answer as ours: llama-server ${serverText.trim() === ours.text}, llama-mtmd-cli ${cliText.endsWith(ours.text)}`);
  } finally {
    server.kill('SIGTERM');
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
