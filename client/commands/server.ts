import type { Command } from 'commander';
import { startOrReuseDevServer } from '../../infra/dev-server';
import { stateDir } from '../../infra/paths';

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run the local Temporal dev server (SQLite in the state folder, so workflows survive restarts)')
    .option('--port <port>', 'gRPC port', '7233')
    .option('--ui-port <port>', 'web UI port', '8233')
    .action(async (o: { port: string; uiPort: string }) => {
      const server = await startOrReuseDevServer({ port: Number(o.port), uiPort: Number(o.uiPort) });
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
