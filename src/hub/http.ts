// Requests to the Hugging Face hub with plain fetch (Node's undici): bearer auth, no transparent
// compression (we hash the bytes as they arrive, and Range offsets must mean file offsets), and
// errors turned into MoondreamErrors that say what to do.
import { abortedError } from '../abort.js';
import { MoondreamError } from '../errors.js';

export interface HubClient {
  /** e.g. https://huggingface.co, without a trailing slash. */
  endpoint: string;
  /** Sent as `Authorization: Bearer`; undefined sends none. */
  token: string | undefined;
  signal: AbortSignal | undefined;
}

/**
 * GET with the hub's headers. Redirects are followed (LFS files live on a CDN); fetch drops the
 * Authorization header when a redirect leaves the hub's origin, so the token never reaches the CDN.
 */
export async function hubGet(client: HubClient, url: string, headers: Record<string, string> = {}): Promise<Response> {
  // undici already asks for identity on a Range request (and would duplicate ours).
  const all: Record<string, string> = { 'user-agent': 'moondream-ggml', ...headers };
  if (!headers.range) all['accept-encoding'] = 'identity';
  if (client.token) all.authorization = `Bearer ${client.token}`;
  try {
    return await fetch(url, { headers: all, redirect: 'follow', ...(client.signal ? { signal: client.signal } : {}) });
  } catch (error) {
    throw networkError(client, error, `Cannot reach ${client.endpoint}`);
  }
}

/** An error thrown while talking to the hub, as ERR_ABORTED when our signal caused it. */
export function networkError(client: HubClient, error: unknown, what: string): MoondreamError {
  if (error instanceof MoondreamError) return error;
  if (client.signal?.aborted) return abortedError();
  // undici reports "fetch failed" / "terminated" with the socket's reason as the cause.
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return new MoondreamError('ERR_DOWNLOAD', `${what}: ${cause ? `${message} (${cause})` : message}`, { cause: error });
}

/** The hub's own explanation of an error status, when it gives one (JSON `error` or X-Error-Message). */
async function serverMessage(response: Response): Promise<string | undefined> {
  const header = response.headers.get('x-error-message');
  let text: string;
  try {
    text = (await response.text()).slice(0, 500);
  } catch {
    return header ?? undefined;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object' && typeof (parsed as { error?: unknown }).error === 'string') {
      return (parsed as { error: string }).error;
    }
  } catch {
    // Not JSON: an HTML error page says nothing useful on one line.
  }
  return header ?? undefined;
}

/** A failed response as one clear line; the body is consumed so the socket is released. */
export async function statusError(client: HubClient, response: Response, what: string): Promise<MoondreamError> {
  const detail = await serverMessage(response);
  const hint = response.status === 401
    ? client.token ? 'the hub rejected HF_TOKEN' : 'set HF_TOKEN to a Hugging Face access token'
    : response.status === 403 ? 'the token has no access to this repository'
      : response.status === 404 ? 'check the repository, --revision and HF_ENDPOINT'
        : undefined;
  const parts = [`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`, detail, hint].filter(Boolean);
  return new MoondreamError('ERR_DOWNLOAD', `${what}: ${parts.join('; ')}`);
}
