// A Model Context Protocol server (official SDK) with two tools, caption_image and ask_image, so
// agents can look at images through moondream. Encoded images are kept by content hash, so a
// second question about the same image reuses its vision encoding and its prompt prefix.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { MoondreamError } from '../errors.js';
import type { Moondream } from '../moondream.js';
import { ImageCache, imageHash } from '../server/image-cache.js';
import { modelSessionFactory } from '../server/serving-session.js';
import { loadImageArgument, type ImageArgumentPolicy } from './image-argument.js';

export interface McpServerOptions extends ImageArgumentPolicy {
  maxImagePixels: number;
  version: string;
}

const imageArg = z.string().min(1).describe('The image: a file path, a data:image/...;base64 URL, or base64 bytes');
const maxTokensArg = z.number().int().min(1).max(1024).optional().describe('New tokens at most (default 256)');

export function createMcpServer(model: Promise<Moondream>, options: McpServerOptions): McpServer {
  const server = new McpServer({ name: 'moondream-ggml', version: options.version });
  const images = new ImageCache(16);
  const session = model.then((md) => ({ md, session: modelSessionFactory(md)() }));

  const answer = async (image: string, question: string | undefined, maxTokens: number | undefined) => {
    try {
      const { md, session: s } = await session;
      const bytes = await loadImageArgument(image, options);
      const { image: encoded } = await images.get(imageHash(bytes), () => s.encodeImage(bytes, { maxPixels: options.maxImagePixels }));
      const result = await s.answer(encoded, question ?? md.info.prompt.captionQuestion, maxTokens === undefined ? {} : { maxTokens });
      return { content: [{ type: 'text' as const, text: result.text }] };
    } catch (error) {
      const message = error instanceof MoondreamError ? `${error.message} (${error.code})` : String(error);
      return { content: [{ type: 'text' as const, text: message }], isError: true };
    }
  };

  server.registerTool('caption_image', {
    title: 'Caption an image',
    description: 'Describes an image with moondream1 (a local vision-language model).',
    inputSchema: { image: imageArg, max_tokens: maxTokensArg },
  }, async ({ image, max_tokens }) => answer(image, undefined, max_tokens));

  server.registerTool('ask_image', {
    title: 'Ask about an image',
    description: 'Answers a question about an image with moondream1 (a local vision-language model).',
    inputSchema: { image: imageArg, question: z.string().min(1).describe('The question about the image'), max_tokens: maxTokensArg },
  }, async ({ image, question, max_tokens }) => answer(image, question, max_tokens));

  return server;
}
