// `moondream-ggml mcp` driven by the MCP SDK's own client over stdio: the tools' answers equal
// answerQuestion's and caption's, for an image given as a path and as base64.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Moondream } from '../../src/index.js';
import { tinyModelDir } from '../helpers/child-server.js';
import { FIXTURE, imageBytes, tinyModel } from '../helpers/tiny-server.js';

const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;
const IMAGE = 'smooth_600x450.png';

let client: Client;
let md: Moondream;

before(async () => {
  md = await tinyModel();
  client = new Client({ name: 'moondream-ggml-test', version: '0.0.0' });
  // The SDK hands a server only HOME, PATH and a few more unless told: pass this process's
  // environment, so the server runs the binary, CPU cap and packed-weight cache folder of the run.
  const env = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  await client.connect(new StdioClientTransport({
    command: process.execPath, args: [CLI, 'mcp', '--model', await tinyModelDir(), '--threads', '2'], stderr: 'ignore', env,
  }));
});
after(async () => {
  await client.close();
  md.dispose();
});

const text = (result: Awaited<ReturnType<Client['callTool']>>) => {
  const content = result.content as { type: string; text: string }[];
  assert.equal(content.length, 1);
  assert.equal(content[0]!.type, 'text');
  return content[0]!.text;
};

describe('the MCP server', () => {
  it('lists caption_image and ask_image with their input schemas', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['ask_image', 'caption_image']);
    const ask = tools.find((t) => t.name === 'ask_image')!;
    assert.deepEqual([...(ask.inputSchema.required ?? [])].sort(), ['image', 'question']);
  });

  it('ask_image answers exactly as answerQuestion, from a path and from base64', async () => {
    const image = await md.encodeImage(FIXTURE(IMAGE));
    const expected = await md.answerQuestion(image, 'What is this?', { maxTokens: 10 });
    const fromPath = await client.callTool({ name: 'ask_image', arguments: { image: FIXTURE(IMAGE), question: 'What is this?', max_tokens: 10 } });
    assert.equal(fromPath.isError ?? false, false);
    assert.equal(text(fromPath), expected);
    const fromBase64 = await client.callTool({ name: 'ask_image', arguments: { image: imageBytes(IMAGE).toString('base64'), question: 'What is this?', max_tokens: 10 } });
    assert.equal(text(fromBase64), expected);
  });

  it('caption_image answers as caption()', async () => {
    const image = await md.encodeImage(FIXTURE('grey_240x180.png'));
    const expected = await md.caption(image, { maxTokens: 10 });
    const result = await client.callTool({ name: 'caption_image', arguments: { image: `data:image/png;base64,${imageBytes('grey_240x180.png').toString('base64')}`, max_tokens: 10 } });
    assert.equal(text(result), expected);
  });

  it('reports a bad image as a tool error, and keeps serving', async () => {
    const missing = await client.callTool({ name: 'ask_image', arguments: { image: '/no/such/image.png', question: 'Q?' } });
    assert.equal(missing.isError, true);
    assert.match(text(missing), /no such file/);
    const garbage = await client.callTool({ name: 'caption_image', arguments: { image: 'not base64 at all!' } });
    assert.equal(garbage.isError, true);
    assert.match(text(garbage), /not valid base64/);
    const ok = await client.callTool({ name: 'ask_image', arguments: { image: FIXTURE(IMAGE), question: 'Again?', max_tokens: 3 } });
    assert.equal(ok.isError ?? false, false);
  });
});
