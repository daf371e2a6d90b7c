/**
 * The OpenAI-compatible gateway: `POST /v1/chat/completions` runs one durable `runMas` workflow
 * per request under per-request budgets and per-key spend limits. Node's own http module: the
 * gateway has five routes, and a framework would add nothing the handlers below need.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { Registry } from 'prom-client';
import type { Budgets, RunMasInput, RunMasResult } from '../../core/mas';
import { MAIN_TASK_QUEUE } from '../../core/queues';
import type { ApiKey, KeyStore, RequestRow } from '../../activities/keys-store';
import { asUserError } from '../api';
import { GatewayError, badRequest, sendError } from './errors';
import { ChatRequestSchema, IDEMPOTENCY_HEADER, MAX_COST_HEADER, MAX_LATENCY_HEADER, queryOf, type ChatRequest } from './schemas';
import { ModelCatalog, type ResolvedModel } from './models';
import { gatewayDuration, gatewayInFlight, gatewayRegistry, gatewayRequests, keyCostUsd, keyRejections } from './metrics';

/** Largest request body accepted (bytes); larger ones get 413. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Seconds between SSE keep-alive comments while a streamed run is under way. */
const SSE_KEEPALIVE_MS = 10_000;

export interface GatewayOptions {
  client: Client;
  keys: KeyStore;
  catalog: ModelCatalog;
  /** Task queue of the runMas workflows (default: the product's main queue). */
  taskQueue?: string;
  /** Simulated pool: real seconds per simulated second (default 0). */
  timeFactor?: number;
  maxBodyBytes?: number;
  /** Extra metric registries served on /metrics (the in-process worker's). */
  metricsRegistries?: Registry[];
  log?: (m: string) => void;
}

export interface Gateway {
  server: http.Server;
  listen(port: number, host: string): Promise<string>;
  /** Stops accepting, waits for in-flight requests (up to `timeoutMs`), then closes every connection. */
  close(opts?: { timeoutMs?: number }): Promise<void>;
  inFlight(): number;
}

/** The workflow id of a request: derived from the key and idempotency key, so a retry attaches to the same run. */
function requestWorkflowId(keyId: string, requestId: string, idempotencyKey?: string): string {
  if (idempotencyKey === undefined) return `gw-${requestId}`;
  return `gw-${keyId}-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}`;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new GatewayError(413, 'invalid_request_error', `request body is larger than ${limit} bytes`, 'request_too_large');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', () => reject(new GatewayError(400, 'invalid_request_error', 'the request body could not be read', 'bad_body')));
  });
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

/** A budget header: absent, or a positive finite number. */
function headerBudget(req: IncomingMessage, name: string): number | undefined {
  const raw = req.headers[name];
  if (raw === undefined) return undefined;
  const text = Array.isArray(raw) ? raw[0]! : raw;
  const v = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(v)) throw badRequest(`header ${name} must be a finite number, got "${text}"`, 'invalid_budget', name);
  if (v <= 0) throw badRequest(`header ${name} must be positive, got ${v}`, 'invalid_budget', name);
  return v;
}

/** Per-key requests-per-minute limiter (sliding window, in this gateway process). */
class RateLimiter {
  private readonly hits = new Map<string, number[]>();
  /** Seconds to wait, or 0 when the request may go now (and is counted). */
  take(keyId: string, rpm: number | undefined, now: number): number {
    if (rpm === undefined) return 0;
    const recent = (this.hits.get(keyId) ?? []).filter((t) => t > now - 60_000);
    if (recent.length >= rpm) {
      this.hits.set(keyId, recent);
      return Math.max(1, Math.ceil((recent[0]! + 60_000 - now) / 1000));
    }
    recent.push(now);
    this.hits.set(keyId, recent);
    return 0;
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The OpenAI response plus the `agentbalance` extension (cost, budget flags, agent trace). */
function completionBody(args: { id: string; created: number; model: string; result: RunMasResult; row: RequestRow; key: ApiKey; budgets: Budgets; replay: boolean }) {
  const { result } = args;
  const prompt = result.agents.reduce((s, a) => s + a.inputTokens, 0);
  const completion = result.agents.reduce((s, a) => s + a.outputTokens, 0);
  return {
    id: args.id,
    object: 'chat.completion' as const,
    created: args.created,
    model: args.model,
    choices: [{ index: 0, message: { role: 'assistant' as const, content: result.answer, refusal: null }, finish_reason: 'stop' as const, logprobs: null }],
    usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    agentbalance: extension(args),
  };
}

function extension(args: { result: RunMasResult; row: RequestRow; key: ApiKey; budgets: Budgets; replay: boolean }) {
  const { result } = args;
  return {
    request_id: args.row.requestId,
    workflow_id: args.row.workflowId,
    key_id: args.key.id,
    idempotent_replay: args.replay,
    cost_usd: result.costUsd,
    latency_s: result.latencyS,
    deadlineHit: result.deadlineHit,
    budgetExhausted: result.budgetExhausted,
    simulated: result.simulated,
    budgets: { max_cost_usd: args.budgets.maxCostUsd ?? null, max_latency_s: args.budgets.maxLatencyS ?? null },
    topology: result.topology,
    agents: result.agents,
  };
}

export function createGateway(opts: GatewayOptions): Gateway {
  const log = opts.log ?? (() => {});
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const taskQueue = opts.taskQueue ?? MAIN_TASK_QUEUE;
  const limiter = new RateLimiter();
  const inflight = new Set<Promise<void>>();
  let draining = false;
  const metrics = Registry.merge([gatewayRegistry, ...(opts.metricsRegistries ?? [])]);

  async function authenticate(req: IncomingMessage): Promise<ApiKey> {
    const secret = bearer(req);
    if (!secret) throw new GatewayError(401, 'authentication_error', 'missing API key: send "Authorization: Bearer <key>"', 'missing_api_key');
    const key = await opts.keys.authenticate(secret);
    if (!key) throw new GatewayError(401, 'authentication_error', 'invalid or revoked API key', 'invalid_api_key');
    return key;
  }

  /** Starts the request's workflow, or attaches to it when it already exists (a retried idempotency key). */
  async function runWorkflow(workflowId: string, input: RunMasInput): Promise<RunMasResult> {
    let handle;
    try {
      handle = await opts.client.workflow.start('runMas', {
        taskQueue,
        workflowId,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      });
    } catch (e) {
      if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
      handle = opts.client.workflow.getHandle(workflowId);
    }
    return (await handle.result()) as RunMasResult;
  }

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const key = await authenticate(req);
    const raw = await readBody(req, maxBody);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw badRequest('the request body is not valid JSON', 'invalid_json');
    }
    const parsed = ChatRequestSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const param = issue.path.join('.') || null;
      const code = param === 'max_cost_usd' || param === 'max_latency_s' ? 'invalid_budget' : 'invalid_value';
      throw badRequest(`${param ?? 'body'}: ${issue.message}`, code, param);
    }
    const request: ChatRequest = parsed.data;
    const model: ResolvedModel | undefined = opts.catalog.resolve(request.model);
    if (!model) {
      throw new GatewayError(404, 'invalid_request_error', `The model \`${request.model}\` does not exist; see GET /v1/models`, 'model_not_found', 'model');
    }
    // Budgets: body field, else header, else the key's defaults. The cost budget always exists: it is what is reserved.
    const maxCostUsd = request.max_cost_usd ?? headerBudget(req, MAX_COST_HEADER) ?? key.limits.defaultMaxCostUsd;
    const maxLatencyS = request.max_latency_s ?? headerBudget(req, MAX_LATENCY_HEADER) ?? key.limits.defaultMaxLatencyS;
    const budgets: Budgets = { maxCostUsd, ...(maxLatencyS !== undefined ? { maxLatencyS } : {}) };
    const idemRaw = req.headers[IDEMPOTENCY_HEADER];
    const idempotencyKey = Array.isArray(idemRaw) ? idemRaw[0] : idemRaw;
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 255)) {
      throw badRequest('Idempotency-Key must be 1 to 255 characters', 'invalid_idempotency_key', 'Idempotency-Key');
    }
    const query = queryOf(request);
    if (query.length === 0) throw badRequest('messages: no message has text content', 'invalid_value', 'messages');
    const wait = limiter.take(key.id, key.limits.rpm, Date.now());
    if (wait > 0) {
      keyRejections.inc({ key_id: key.id, reason: 'rate' });
      throw new GatewayError(429, 'rate_limit_error', `rate limit of ${key.limits.rpm} requests per minute reached for key ${key.id}`, 'rate_limit_exceeded', null, { 'retry-after': String(wait) });
    }

    let input: RunMasInput;
    try {
      input = await opts.catalog.buildInput(model, request, query, budgets, { timeFactor: opts.timeFactor ?? 0, rate429: 0, rate5xx: 0, seed: String(request.seed ?? 0) });
    } catch (e) {
      // A design whose benchmark data is not installed: the model is not available here.
      if (e instanceof Error && e.name === 'DatasetError') {
        throw new GatewayError(404, 'invalid_request_error', `model ${request.model} is not available: ${e.message.split('\n')[0]}`, 'model_not_found', 'model');
      }
      throw e;
    }
    const requestHash = createHash('sha256').update(JSON.stringify([request.model, request.messages, budgets, request.seed ?? 0])).digest('hex');
    const requestId = `req_${randomUUID().replace(/-/g, '')}`;
    const reservation = await opts.keys.reserve({
      key,
      requestId,
      workflowId: requestWorkflowId(key.id, requestId, idempotencyKey),
      model: request.model,
      amountUsd: maxCostUsd,
      requestHash,
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    });
    if (reservation.kind === 'limit') {
      keyRejections.inc({ key_id: key.id, reason: reservation.window });
      throw new GatewayError(
        429,
        'rate_limit_error',
        `${reservation.window} spend limit of $${reservation.limitUsd} reached for key ${key.id} ($${reservation.spentUsd.toFixed(6)} spent or reserved; this request reserves $${maxCostUsd})`,
        'spend_limit_exceeded',
        null,
        { 'retry-after': String(reservation.retryAfterS) },
      );
    }
    const row = reservation.row;
    if (reservation.kind === 'existing' && row.requestHash !== undefined && row.requestHash !== requestHash) {
      throw new GatewayError(409, 'invalid_request_error', `Idempotency-Key was used for a different request (model, messages or budgets) on run ${row.workflowId}`, 'idempotency_key_reused', 'Idempotency-Key');
    }
    const replay = reservation.kind === 'existing';
    const created = Math.floor(row.createdAt / 1000);
    const id = `chatcmpl-${row.requestId.slice(4)}`;
    const stream = request.stream === true;
    let keepAlive: NodeJS.Timeout | undefined;
    if (stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': row.requestId, ...(draining ? { connection: 'close' } : {}) });
      res.flushHeaders();
      keepAlive = setInterval(() => res.write(': keep-alive\n\n'), SSE_KEEPALIVE_MS);
    }
    let result: RunMasResult;
    try {
      result = await runWorkflow(row.workflowId, input);
    } catch (err) {
      const userErr = asUserError(err);
      if (userErr) {
        await opts.keys.release(row.requestId);
        throw badRequest(userErr.message.split('\n')[0]!, 'invalid_mas');
      }
      // The run's spend is unknown: its reservation stays booked (never under-counts).
      log(`gateway: run ${row.workflowId} failed: ${err instanceof Error ? err.message : String(err)}`);
      throw new GatewayError(502, 'server_error', `the run ${row.workflowId} failed; its reservation stays booked`, 'run_failed');
    } finally {
      if (keepAlive) clearInterval(keepAlive);
    }
    if (await opts.keys.settle(row.requestId, result.costUsd)) {
      keyCostUsd.inc({ key_id: key.id, simulated: String(result.simulated) }, result.costUsd);
    }
    const full = completionBody({ id, created, model: request.model, result, row, key, budgets, replay });
    if (!stream) {
      json(res, 200, full, { 'x-request-id': row.requestId, 'x-agentbalance-cost-usd': String(result.costUsd), ...(draining ? { connection: 'close' } : {}) });
      return;
    }
    // The final answer as OpenAI chunks: role and content, then the finish reason (and usage when asked).
    const chunk = (extra: object) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: request.model, ...extra })}\n\n`;
    res.write(chunk({ choices: [{ index: 0, delta: { role: 'assistant', content: result.answer }, finish_reason: null, logprobs: null }] }));
    res.write(chunk({ choices: [{ index: 0, delta: {}, finish_reason: 'stop', logprobs: null }], agentbalance: full.agentbalance }));
    if (request.stream_options?.include_usage) res.write(chunk({ choices: [], usage: full.usage }));
    res.end('data: [DONE]\n\n');
  }

  async function ready(): Promise<boolean> {
    if (draining) return false;
    try {
      await opts.client.connection.withDeadline(Date.now() + 2000, () => opts.client.workflowService.getSystemInfo({}));
      return true;
    } catch {
      return false;
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<string> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const p = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const only = (m: string) => {
      if (method !== m) throw new GatewayError(405, 'invalid_request_error', `${method} is not allowed on ${p}; use ${m}`, 'method_not_allowed', null, { allow: m });
    };
    if (p === '/v1/chat/completions') {
      only('POST');
      if (draining) throw new GatewayError(503, 'server_error', 'the gateway is shutting down; retry on another instance', 'shutting_down', null, { 'retry-after': '1' });
      await chat(req, res);
      return 'chat';
    }
    if (p === '/v1/models' || p.startsWith('/v1/models/')) {
      only('GET');
      await authenticate(req);
      const all = opts.catalog.list().map((m) => ({ id: m.id, object: 'model', created: 0, owned_by: m.owned_by }));
      if (p === '/v1/models') {
        json(res, 200, { object: 'list', data: all });
      } else {
        const id = decodeURIComponent(p.slice('/v1/models/'.length));
        const m = all.find((x) => x.id === id);
        if (!m) throw new GatewayError(404, 'invalid_request_error', `The model \`${id}\` does not exist`, 'model_not_found', 'model');
        json(res, 200, m);
      }
      return 'models';
    }
    if (p === '/healthz' || p === '/health') {
      only('GET');
      json(res, 200, { status: 'ok' });
      return 'health';
    }
    if (p === '/readyz' || p === '/ready') {
      only('GET');
      const ok = await ready();
      json(res, ok ? 200 : 503, { status: ok ? 'ready' : draining ? 'draining' : 'temporal unreachable' });
      return 'ready';
    }
    if (p === '/metrics') {
      only('GET');
      const text = await metrics.metrics();
      res.writeHead(200, { 'content-type': metrics.contentType });
      res.end(text);
      return 'metrics';
    }
    throw new GatewayError(404, 'invalid_request_error', `no route ${method} ${p}`, 'not_found');
  }

  const server = http.createServer((req, res) => {
    const start = performance.now();
    const isChat = (req.url ?? '').startsWith('/v1/chat/completions');
    if (isChat) gatewayInFlight.inc();
    let routeName = 'other';
    const work = route(req, res)
      .then((r) => {
        routeName = r;
      })
      .catch((err: unknown) => {
        if (isChat) routeName = 'chat';
        const e =
          err instanceof GatewayError ? err : new GatewayError(500, 'server_error', 'internal error in the gateway', 'internal_error');
        if (!(err instanceof GatewayError)) log(`gateway: unexpected error: ${err instanceof Error ? err.message : String(err)}`);
        if (res.headersSent) {
          // A stream already under way: the error as a last event.
          res.end(`data: ${JSON.stringify({ error: { message: e.message, type: e.type, param: e.param, code: e.code } })}\n\ndata: [DONE]\n\n`);
        } else {
          if (e.status === 413) res.setHeader('connection', 'close');
          sendError(res, e);
        }
      })
      .finally(() => {
        if (isChat) gatewayInFlight.dec();
        const status = String(res.statusCode);
        gatewayRequests.inc({ route: routeName, status });
        gatewayDuration.observe({ route: routeName, status }, (performance.now() - start) / 1000);
        inflight.delete(work);
      });
    inflight.add(work);
  });
  // `Expect: 100-continue` (curl sends it for large bodies): refuse an oversized body before it is sent.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBody) {
      res.setHeader('connection', 'close');
      sendError(res, new GatewayError(413, 'invalid_request_error', `request body is larger than ${maxBody} bytes`, 'request_too_large'));
      gatewayRequests.inc({ route: 'chat', status: '413' });
      return;
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
  // Time allowed to receive a request (headers and body); answering may take as long as the run.
  server.requestTimeout = 60_000;
  server.headersTimeout = 30_000;

  return {
    server,
    inFlight: () => inflight.size,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          resolve(`http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`);
        });
      }),
    close: async ({ timeoutMs = 30_000 } = {}) => {
      draining = true;
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...inflight]), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
      server.closeAllConnections();
      await closed;
    },
  };
}
