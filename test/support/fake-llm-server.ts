import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server speaking the OpenAI chat-completions and Anthropic Messages wire formats, so
 * provider tests exercise the real SDKs over real HTTP. Replies are scripted per request (FIFO).
 */

export interface FakeUsage {
  input?: number;
  output?: number;
  /** OpenAI: prompt_tokens_details.cached_tokens. */
  cached?: number;
  /** Anthropic: cache_creation_input_tokens / cache_read_input_tokens. */
  cacheWrite?: number;
  cacheRead?: number;
}

export type FakeReply =
  | { kind: 'ok'; text?: string; usage?: FakeUsage; delayMs?: number }
  | { kind: 'error'; status: number; message?: string; headers?: Readonly<Record<string, string>> }
  /** Sends nothing until the client gives up (for cancellation tests). */
  | { kind: 'hang' }
  /** Any JSON body with any status (for malformed responses). */
  | { kind: 'raw'; status?: number; body: unknown };

export type WireApi = 'openai' | 'anthropic';

export interface RecordedRequest {
  api: WireApi;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  /** True when the client closed the connection before the reply was sent. */
  closedEarly: boolean;
}

export interface FakeLlmServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** Base URL for the OpenAI SDK (`…/v1`). */
  readonly openaiBaseUrl: string;
  /** Base URL for the Anthropic SDK (it appends `/v1/messages`). */
  readonly anthropicBaseUrl: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** Scripts the next replies; with none queued the server answers `{ kind: 'ok' }`. */
  enqueue(...replies: FakeReply[]): void;
  /** Resolves with the next request to arrive (its body read, its reply not yet sent). */
  nextRequest(): Promise<RecordedRequest>;
  /** Resolves with the next request whose client hung up before its reply (or rejects after timeoutMs). */
  nextEarlyClose(timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

function errorType(api: WireApi, status: number): string {
  if (api === 'anthropic') {
    if (status === 429) return 'rate_limit_error';
    if (status === 401) return 'authentication_error';
    if (status === 529) return 'overloaded_error';
    return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
  if (status === 429) return 'rate_limit_exceeded';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

function successBody(api: WireApi, model: string, n: number, text: string, u: FakeUsage): unknown {
  const input = u.input ?? 12;
  const output = u.output ?? 5;
  if (api === 'openai') {
    return {
      id: `chatcmpl-fake-${n}`,
      object: 'chat.completion',
      created: 0,
      model,
      choices: [
        { index: 0, message: { role: 'assistant', content: text, refusal: null }, finish_reason: 'stop', logprobs: null },
      ],
      usage: {
        prompt_tokens: input,
        completion_tokens: output,
        total_tokens: input + output,
        ...(u.cached !== undefined ? { prompt_tokens_details: { cached_tokens: u.cached } } : {}),
      },
    };
  }
  return {
    id: `msg_fake_${n}`,
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: input,
      output_tokens: output,
      cache_creation_input_tokens: u.cacheWrite ?? 0,
      cache_read_input_tokens: u.cacheRead ?? 0,
    },
  };
}

function errorBody(api: WireApi, status: number, message: string): unknown {
  const type = errorType(api, status);
  return api === 'openai' ? { error: { message, type, code: null, param: null } } : { type: 'error', error: { type, message } };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export async function startFakeLlmServer(): Promise<FakeLlmServer> {
  const queue: FakeReply[] = [];
  const requests: RecordedRequest[] = [];
  const earlyCloseWaiters: ((r: RecordedRequest) => void)[] = [];
  const earlyClosed: RecordedRequest[] = [];
  const arrivalWaiters: ((r: RecordedRequest) => void)[] = [];

  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = req.url ?? '/';
      const api: WireApi | undefined = path.endsWith('/chat/completions')
        ? 'openai'
        : path.endsWith('/messages')
          ? 'anthropic'
          : undefined;
      if (!api) return send(res, 404, { error: { message: `no route ${path}` } });
      const rec: RecordedRequest = { api, method: req.method ?? '', path, headers: req.headers, body, closedEarly: false };
      requests.push(rec);
      for (const w of arrivalWaiters.splice(0)) w(rec);
      let timer: NodeJS.Timeout | undefined;
      res.on('close', () => {
        if (timer) clearTimeout(timer);
        if (res.writableFinished) return;
        rec.closedEarly = true;
        const waiter = earlyCloseWaiters.shift();
        if (waiter) waiter(rec);
        else earlyClosed.push(rec);
      });
      const reply: FakeReply = queue.shift() ?? { kind: 'ok' };
      const model =
        typeof body === 'object' && body !== null && typeof (body as { model?: unknown }).model === 'string'
          ? (body as { model: string }).model
          : 'unknown';
      switch (reply.kind) {
        case 'hang':
          return;
        case 'raw':
          return send(res, reply.status ?? 200, reply.body);
        case 'error':
          return send(
            res,
            reply.status,
            errorBody(api, reply.status, reply.message ?? `scripted ${reply.status}`),
            reply.headers,
          );
        case 'ok': {
          const out = (): void =>
            send(
              res,
              200,
              successBody(api, model, requests.length, reply.text ?? 'Hello from the fake server.', reply.usage ?? {}),
            );
          if (reply.delayMs) timer = setTimeout(out, reply.delayMs);
          else out();
          return;
        }
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    requests,
    enqueue: (...replies) => void queue.push(...replies),
    nextRequest: () => new Promise((resolve) => arrivalWaiters.push(resolve)),
    nextEarlyClose: (timeoutMs = 2000) => {
      const ready = earlyClosed.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no early connection close within ${timeoutMs} ms`)), timeoutMs);
        earlyCloseWaiters.push((r) => {
          clearTimeout(t);
          resolve(r);
        });
      });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
