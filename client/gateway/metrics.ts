/**
 * The gateway's own product metrics, in a registry of their own (served on the gateway's
 * `/metrics` together with the worker's product metrics when the worker runs in-process).
 * Keys appear only by id, never by secret.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const gatewayRegistry = new Registry();

export const gatewayRequests = new Counter({
  name: 'agentbalance_gateway_requests_total',
  help: 'HTTP requests answered by the gateway, by route and status code',
  labelNames: ['route', 'status'] as const,
  registers: [gatewayRegistry],
});

export const gatewayDuration = new Histogram({
  name: 'agentbalance_gateway_request_duration_seconds',
  help: 'Wall-clock duration of gateway requests (chat completions include the whole MAS run)',
  labelNames: ['route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers: [gatewayRegistry],
});

export const gatewayInFlight = new Gauge({
  name: 'agentbalance_gateway_requests_in_flight',
  help: 'Chat-completion requests the gateway is answering now',
  registers: [gatewayRegistry],
});

export const keyCostUsd = new Counter({
  name: 'agentbalance_gateway_key_cost_usd_total',
  help: 'Settled cost of chat completions per API key id (USD; simulated="true" for the simulated pool: what the calls would cost)',
  labelNames: ['key_id', 'simulated'] as const,
  registers: [gatewayRegistry],
});

export const keyRejections = new Counter({
  name: 'agentbalance_gateway_key_rejections_total',
  help: 'Requests refused for a key limit (reason="daily"|"monthly"|"rate")',
  labelNames: ['key_id', 'reason'] as const,
  registers: [gatewayRegistry],
});
