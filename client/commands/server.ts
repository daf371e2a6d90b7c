import type { Command } from 'commander';
import { lazy } from '../lazy';
import { stateDir } from '../../infra/paths';
import { naturalInt, parseFlag } from '../options';

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run the local Temporal dev server (SQLite in the state folder, so workflows survive restarts)')
    .option('--port <port>', 'gRPC port (default: the one this state folder recorded, else 7233 when free, else any free port)')
    .option('--ui-port <port>', 'web UI port (default: 8233 next to 7233, else any free port)')
    .action(async (o: { port?: string; uiPort?: string }) => {
      const port = (flag: string, v: string) => parseFlag(flag, naturalInt().refine((n) => n >= 1 && n <= 65535, 'expected a port number 1-65535'), v);
      const ports = {
        ...(o.port !== undefined ? { port: port('--port', o.port) } : {}),
        ...(o.uiPort !== undefined ? { uiPort: port('--ui-port', o.uiPort) } : {}),
      };
      const { startOrReuseDevServer } = lazy<typeof import('../../infra/dev-server')>('../../infra/dev-server', __filename);
      const server = await startOrReuseDevServer(ports);
      if (!server.owned) {
        console.log(`A Temporal server is already running at ${server.address} (UI ${server.uiUrl}).`);
        return;
      }
      console.log(`Temporal dev server at ${server.address}`);
      console.log(`Web UI:        ${server.uiUrl}`);
      console.log(`State:         ${stateDir()}`);
      console.log('Press Ctrl-C to stop.');
      await new Promise<void>((resolve) => {
        const stop = () => void server.stop().then(resolve);
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
