import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { enableProcessMetrics, registry } from '../activities/metrics';

export const DEFAULT_METRICS_HOST = '127.0.0.1';
/** The product metrics' default port; Temporal's SDK metrics go on their own (9465 in infra/). */
export const DEFAULT_METRICS_PORT = 9464;

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves the product metrics (activities/metrics.ts) for Prometheus on `GET /metrics`; binds
 * 127.0.0.1 unless told otherwise. Port 0 picks a free port (see `url`).
 */
export async function startMetricsServer(opts: { host?: string; port?: number } = {}): Promise<MetricsServer> {
  enableProcessMetrics();
  const host = opts.host ?? DEFAULT_METRICS_HOST;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res
          .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          .end(`${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_METRICS_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/metrics`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
