// JSON schemas of OpenAI's chat completion request, as much as moondream can honour; fields we
// do not use are allowed (clients send them) unless they ask for something we cannot do, which
// the route turns into a 400 that says why.
const contentPart = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { type: 'string' },
    text: { type: 'string' },
    image_url: {
      type: ['object', 'string'],
      required: ['url'],
      properties: { url: { type: 'string' }, detail: { type: 'string' } },
    },
  },
} as const;

const message = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { type: 'string' },
    content: { type: ['string', 'array', 'null'], items: contentPart },
    name: { type: 'string' },
  },
} as const;

export const chatCompletionBody = {
  type: 'object',
  required: ['messages'],
  properties: {
    model: { type: 'string' },
    messages: { type: 'array', minItems: 1, maxItems: 1024, items: message },
    max_tokens: { type: ['integer', 'null'], minimum: 0, maximum: 4096 },
    max_completion_tokens: { type: ['integer', 'null'], minimum: 0, maximum: 4096 },
    temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
    top_p: { type: ['number', 'null'], minimum: 0, maximum: 1 },
    top_k: { type: ['integer', 'null'], minimum: 0 },
    seed: { type: ['integer', 'null'], minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    stop: { type: ['string', 'array', 'null'], items: { type: 'string', minLength: 1 }, maxItems: 4, minLength: 1 },
    stream: { type: ['boolean', 'null'] },
    stream_options: { type: ['object', 'null'], properties: { include_usage: { type: 'boolean' } } },
    n: { type: ['integer', 'null'], minimum: 1 },
    tools: { type: ['array', 'null'] },
    functions: { type: ['array', 'null'] },
    response_format: { type: ['object', 'null'], properties: { type: { type: 'string' } } },
    logprobs: { type: ['boolean', 'null'] },
  },
} as const;

export interface ChatContentPart {
  type: string;
  text?: string;
  image_url?: { url: string; detail?: string } | string;
}

export interface ChatMessage {
  role: string;
  content?: string | ChatContentPart[] | null;
}

export interface ChatCompletionBody {
  model?: string;
  messages: ChatMessage[];
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  top_k?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  n?: number | null;
  tools?: unknown[] | null;
  functions?: unknown[] | null;
  response_format?: { type?: string } | null;
  logprobs?: boolean | null;
}
