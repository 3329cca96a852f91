// JSON schemas of Ollama's /api/generate and /api/chat requests.
const options = {
  type: 'object',
  properties: {
    temperature: { type: 'number', minimum: 0, maximum: 100 },
    top_p: { type: 'number', minimum: 0, maximum: 1 },
    top_k: { type: 'integer', minimum: 0 },
    seed: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    num_predict: { type: 'integer', minimum: -2, maximum: 4096 },
    stop: { type: 'array', items: { type: 'string', minLength: 1 }, maxItems: 16 },
  },
} as const;

const images = { type: 'array', maxItems: 16, items: { type: 'string' } } as const;

export const generateBody = {
  type: 'object',
  required: ['model'],
  properties: {
    model: { type: 'string' },
    prompt: { type: 'string' },
    images,
    stream: { type: 'boolean' },
    options,
    system: { type: 'string' },
    format: {},
    raw: { type: 'boolean' },
    keep_alive: {},
  },
} as const;

export const chatBody = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    model: { type: 'string' },
    messages: {
      type: 'array',
      maxItems: 1024,
      items: {
        type: 'object',
        required: ['role'],
        properties: { role: { type: 'string' }, content: { type: 'string' }, images },
      },
    },
    stream: { type: 'boolean' },
    options,
    format: {},
    tools: { type: 'array' },
    keep_alive: {},
  },
} as const;

export interface OllamaOptions {
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  num_predict?: number;
  stop?: string[];
}

export interface GenerateBody {
  model: string;
  prompt?: string;
  images?: string[];
  stream?: boolean;
  options?: OllamaOptions;
  format?: unknown;
  tools?: unknown[];
}

export interface OllamaChatBody {
  model: string;
  messages: { role: string; content?: string; images?: string[] }[];
  stream?: boolean;
  options?: OllamaOptions;
  format?: unknown;
  tools?: unknown[];
}
