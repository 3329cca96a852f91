// Ollama's /api/generate, /api/chat (NDJSON streaming by default, as Ollama does) and /api/tags.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { toConversation, type PlainMessage } from '../conversation.js';
import type { GenerationRequest, GenerationResult } from '../engine.js';
import { badRequest, errorBody, toHttpError } from '../http-error.js';
import { imageHash } from '../image-cache.js';
import { loadConversationImage } from '../image-input.js';
import { LazyStream } from '../lazy-stream.js';
import { tracked, type RequestRecord } from '../request-context.js';
import type { RouteContext } from '../route-context.js';
import { chatBody, generateBody, type GenerateBody, type OllamaChatBody, type OllamaOptions } from '../schemas/ollama.js';
import { noteResult } from './openai.js';

const ns = (ms: number) => Math.round(ms * 1e6);

function sampling(options: OllamaOptions | undefined): Partial<GenerationRequest> {
  const o = options ?? {};
  return {
    maxTokens: o.num_predict !== undefined && o.num_predict >= 0 ? o.num_predict : undefined,
    temperature: o.top_p === 0 ? 0 : o.temperature,
    topP: o.top_p === 0 ? undefined : o.top_p,
    topK: o.top_k,
    seed: o.seed,
    stop: o.stop ?? [],
  };
}

function checkSupported(body: { format?: unknown; tools?: unknown[] }): void {
  if (body.format !== undefined && body.format !== null && body.format !== '') {
    throw badRequest('format is not supported: moondream1 answers in plain text', 'format');
  }
  if (body.tools !== undefined && body.tools.length > 0) throw badRequest('tools are not supported: moondream1 cannot call functions', 'tools');
}

function finalStats(result: GenerationResult) {
  return {
    done: true,
    done_reason: result.finishReason,
    total_duration: ns(result.timings.totalMs),
    load_duration: ns(result.timings.encodeMs),
    prompt_eval_count: result.promptTokens,
    prompt_eval_duration: ns(result.timings.prefillMs),
    eval_count: result.completionTokens,
    eval_duration: ns(result.timings.decodeMs),
  };
}

/** Runs one request in Ollama's shape: `piece` wraps a text piece as the route's object. */
async function respond(
  reply: FastifyReply, record: RequestRecord, ctx: RouteContext, url: string, stream: boolean, request: GenerationRequest,
  wrap: (text: string) => Record<string, unknown>,
): Promise<unknown> {
  const engine = ctx.engine();
  const model = ctx.model().name;
  const head = () => ({ model, created_at: new Date().toISOString() });
  if (!stream) {
    const result = await tracked(record, () => engine.generate(request));
    noteResult(record, result);
    return { ...head(), ...wrap(result.text), ...finalStats(result) };
  }
  const out = new LazyStream(reply, 'application/x-ndjson');
  try {
    const result = await tracked(record, () => engine.generate({
      ...request,
      onPiece: (piece) => out.write(`${JSON.stringify({ ...head(), ...wrap(piece), done: false })}\n`),
    }));
    noteResult(record, result);
    out.end(`${JSON.stringify({ ...head(), ...wrap(''), ...finalStats(result) })}\n`);
  } catch (error) {
    if (!out.hasStarted) throw error;
    const httpError = toHttpError(error, 1);
    record.error = httpError.message;
    out.end(`${JSON.stringify(errorBody(url, httpError))}\n`);
  }
  return reply;
}

export function registerOllamaRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/api/tags', async () => {
    const m = ctx.model();
    return {
      models: [{
        name: m.name, model: m.name, modified_at: new Date(m.created * 1000).toISOString(), size: m.sizeBytes, digest: m.digest,
        details: { parent_model: '', format: 'gguf', family: 'phi2', families: ['phi2', 'clip'], parameter_size: m.parameterSize, quantization_level: m.quantization },
      }],
    };
  });

  app.post<{ Body: GenerateBody }>('/api/generate', { schema: { body: generateBody } }, async (request, reply) => {
    const body = request.body;
    const record = request.moondream;
    checkSupported(body);
    const engine = ctx.engine();
    const images = body.images ?? [];
    if (images.length === 0) {
      // Ollama's way to load a model: no prompt, no images.
      if (!body.prompt) return { model: ctx.model().name, created_at: new Date().toISOString(), response: '', done: true, done_reason: 'load' };
      throw badRequest('moondream answers questions about an image, and this request has none: add it to "images" as base64', 'images', 'image_required');
    }
    record.generation = true;
    const image = await loadConversationImage(images, ctx.imagePolicy, 'images', imageHash, record.signal);
    record.imageHash = image.hash;
    reply.header('x-moondream-image-hash', image.hash);
    const question = body.prompt?.trim() ? body.prompt : engine.info.prompt.captionQuestion;
    return respond(reply, record, ctx, request.url, body.stream !== false, {
      ...sampling(body.options), imageBytes: image.bytes, imageHash: image.hash, question, history: [], signal: record.signal, receivedAt: record.receivedAt,
    }, (text) => ({ response: text }));
  });

  app.post<{ Body: OllamaChatBody }>('/api/chat', { schema: { body: chatBody } }, async (request, reply) => {
    const body = request.body;
    const record = request.moondream;
    checkSupported(body);
    const engine = ctx.engine();
    if (body.messages.length === 0) return { model: ctx.model().name, created_at: new Date().toISOString(), message: { role: 'assistant', content: '' }, done: true, done_reason: 'load' };
    record.generation = true;
    const messages: PlainMessage[] = body.messages.map((m) => ({ role: m.role, text: m.content ?? '', images: m.images ?? [] }));
    const conversation = toConversation(messages, engine.info.prompt.captionQuestion);
    const image = await loadConversationImage(conversation.images, ctx.imagePolicy, 'messages', imageHash, record.signal);
    record.imageHash = image.hash;
    reply.header('x-moondream-image-hash', image.hash);
    return respond(reply, record, ctx, request.url, body.stream !== false, {
      ...sampling(body.options), imageBytes: image.bytes, imageHash: image.hash, question: conversation.question, history: conversation.history,
      signal: record.signal, receivedAt: record.receivedAt,
    }, (text) => ({ message: { role: 'assistant', content: text } }));
  });
}
