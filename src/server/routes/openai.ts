// OpenAI's /v1/chat/completions (plain and SSE) and /v1/models.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { toConversation, type PlainMessage } from '../conversation.js';
import type { GenerationResult } from '../engine.js';
import { badRequest, errorBody, toHttpError } from '../http-error.js';
import { imageHash } from '../image-cache.js';
import { loadConversationImage } from '../image-input.js';
import { LazyStream } from '../lazy-stream.js';
import { tracked } from '../request-context.js';
import type { RouteContext } from '../route-context.js';
import { chatCompletionBody, type ChatCompletionBody, type ChatMessage } from '../schemas/openai.js';

function plainMessages(messages: readonly ChatMessage[]): PlainMessage[] {
  return messages.map((message, i) => {
    if (typeof message.content === 'string' || message.content == null) {
      return { role: message.role, text: message.content ?? '', images: [] };
    }
    const texts: string[] = [];
    const images: string[] = [];
    message.content.forEach((part, j) => {
      if (part.type === 'text') {
        if (typeof part.text !== 'string') throw badRequest(`messages[${i}].content[${j}] is a text part without text`, `messages[${i}].content[${j}].text`);
        texts.push(part.text);
      } else if (part.type === 'image_url') {
        const url = typeof part.image_url === 'string' ? part.image_url : part.image_url?.url;
        if (typeof url !== 'string') throw badRequest(`messages[${i}].content[${j}] is an image_url part without a url`, `messages[${i}].content[${j}].image_url`);
        images.push(url);
      } else {
        throw badRequest(`messages[${i}].content[${j}] has type "${part.type}"; moondream takes only "text" and "image_url" parts`, `messages[${i}].content[${j}].type`);
      }
    });
    return { role: message.role, text: texts.join('\n'), images };
  });
}

/** Refuses what moondream cannot do, saying why, before any work starts. */
function checkSupported(body: ChatCompletionBody): void {
  if (body.n != null && body.n > 1) throw badRequest('n > 1 is not supported: moondream returns one choice per request', 'n');
  if ((body.tools != null && body.tools.length > 0) || (body.functions != null && body.functions.length > 0)) {
    throw badRequest('tools are not supported: moondream1 cannot call functions', 'tools');
  }
  const format = body.response_format?.type;
  if (format !== undefined && format !== 'text') throw badRequest(`response_format "${format}" is not supported: moondream1 answers in plain text`, 'response_format');
  if (body.logprobs === true) throw badRequest('logprobs are not supported', 'logprobs');
}

function usage(result: GenerationResult) {
  return {
    prompt_tokens: result.promptTokens,
    completion_tokens: result.completionTokens,
    total_tokens: result.promptTokens + result.completionTokens,
    prompt_tokens_details: { cached_tokens: result.cachedTokens },
  };
}

export function registerOpenAiRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/v1/models', async () => {
    const model = ctx.model();
    return { object: 'list', data: [{ id: model.name, object: 'model', created: model.created, owned_by: 'moondream-ggml' }] };
  });

  app.post<{ Body: ChatCompletionBody }>('/v1/chat/completions', { schema: { body: chatCompletionBody } }, async (request, reply) => {
    const body = request.body;
    const record = request.moondream;
    record.generation = true;
    checkSupported(body);
    const engine = ctx.engine();
    const conversation = toConversation(plainMessages(body.messages), engine.info.prompt.captionQuestion);
    const image = await loadConversationImage(conversation.images, ctx.imagePolicy, 'messages', imageHash, record.signal);
    record.imageHash = image.hash;
    reply.header('x-moondream-image-hash', image.hash);

    const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
    const created = Math.floor(Date.now() / 1000);
    const model = body.model ?? ctx.model().name;
    const stops = body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
    const temperature = body.top_p === 0 ? 0 : body.temperature ?? undefined;
    const common = {
      imageBytes: image.bytes,
      imageHash: image.hash,
      question: conversation.question,
      history: conversation.history,
      maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
      temperature,
      topP: body.top_p === 0 ? undefined : body.top_p ?? undefined,
      topK: body.top_k ?? undefined,
      seed: body.seed ?? undefined,
      stop: stops,
      signal: record.signal,
      receivedAt: record.receivedAt,
    };

    if (!body.stream) {
      const result = await tracked(record, () => engine.generate(common));
      noteResult(record, result);
      return {
        id, object: 'chat.completion', created, model, system_fingerprint: null,
        choices: [{ index: 0, message: { role: 'assistant', content: result.text, refusal: null }, logprobs: null, finish_reason: result.finishReason }],
        usage: usage(result),
      };
    }

    const includeUsage = body.stream_options?.include_usage === true;
    const stream = new LazyStream(reply, 'text/event-stream; charset=utf-8');
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices, ...(includeUsage ? { usage: null } : {}), ...extra })}\n\n`;
    const delta = (content: string, first: boolean) => chunk([{ index: 0, delta: first ? { role: 'assistant', content } : { content }, logprobs: null, finish_reason: null }]);
    try {
      const result = await tracked(record, () => engine.generate({
        ...common,
        onPiece: (piece) => stream.write(delta(piece, !stream.hasStarted)),
      }));
      noteResult(record, result);
      if (!stream.hasStarted) stream.write(delta('', true));
      stream.write(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: result.finishReason }]));
      if (includeUsage) stream.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices: [], usage: usage(result) })}\n\n`);
      stream.end('data: [DONE]\n\n');
    } catch (error) {
      if (!stream.hasStarted) throw error;
      // Headers are gone: report the error in the stream, as OpenAI and llama-server do.
      const httpError = toHttpError(error, 1);
      record.error = httpError.message;
      stream.end(`data: ${JSON.stringify(errorBody(request.url, httpError))}\n\n`);
    }
    return reply;
  });
}

export function noteResult(record: { promptTokens?: number; cachedTokens?: number; completionTokens?: number; ttftMs?: number }, result: GenerationResult): void {
  record.promptTokens = result.promptTokens;
  record.cachedTokens = result.cachedTokens;
  record.completionTokens = result.completionTokens;
  record.ttftMs = result.timings.ttftMs;
}
