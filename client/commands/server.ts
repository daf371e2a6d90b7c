import type { Command } from 'commander';
import { startOrReuseDevServer } from '../../infra/dev-server';
import { stateDir } from '../../infra/paths';

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run the local Temporal dev server (SQLite in the state folder, so workflows survive restarts)')
    .option('--port <port>', 'gRPC port (default: the one this state folder recorded, else 7233 when free, else any free port)')
    .option('--ui-port <port>', 'web UI port (default: 8233 next to 7233, else any free port)')
    .action(async (o: { port?: string; uiPort?: string }) => {
      const server = await startOrReuseDevServer({
        ...(o.port !== undefined ? { port: Number(o.port) } : {}),
        ...(o.uiPort !== undefined ? { uiPort: Number(o.uiPort) } : {}),
      });
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
