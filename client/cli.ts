import { Command, CommanderError } from 'commander';
import { UserError } from './errors';
import { registerServerCommand } from './commands/server';
import { registerWorkerCommand } from './commands/worker';
import { registerRunCommand } from './commands/run';
import { registerPoolCommands } from './commands/pool';
import { registerCampaignCommands } from './commands/campaign';
import { registerDesignerCommands } from './commands/designer';
import { registerServeCommand } from './commands/serve';
import { registerKeysCommands } from './commands/keys';
import { registerLocalCommands } from './commands/local';
import { preflight } from './preflight';
import { EXIT, ExitCode } from './exit';
import { productEnv } from '../infra/env';

export { EXIT } from './exit';

/** Errors a user can fix: one line, exit 2, no stack trace. */
function isUserFacing(err: unknown): err is Error {
  if (err instanceof UserError) return true;
  const name = err instanceof Error ? err.name : '';
  return ['PoolLoadError', 'PoolFileError', 'DatasetError', 'MissingApiKeyError', 'MasSpecError'].includes(name);
}

/** Commander's own errors (unknown flag or command, missing flag) as one line pointing at --help. */
function oneLineErrors(cmd: Command, path: string): void {
  cmd.configureOutput({
    outputError: (str, write) => write(`agentbalance: ${str.trim().replace(/^error: /, '').split('\n')[0]}; see ${path} --help\n`),
  });
  for (const sub of cmd.commands) oneLineErrors(sub, `${path} ${sub.name()}`);
}

export function buildProgram(): Command {
  const program = new Command('agentbalance')
    .description('Cost- and latency-budgeted LLM multi-agent systems, run durably on Temporal')
    .exitOverride();
  registerServerCommand(program);
  registerWorkerCommand(program);
  registerRunCommand(program);
  registerPoolCommands(program);
  registerCampaignCommands(program);
  registerDesignerCommands(program);
  registerServeCommand(program);
  registerKeysCommands(program);
  registerLocalCommands(program);
  oneLineErrors(program, 'agentbalance');
  // The state folder and TEMPORAL_ADDRESS are checked before any command does work.
  program.hook('preAction', async (_program, action) => preflight(action.name()));
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; everything else commander rejects is a usage error.
      return err.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    if (err instanceof ExitCode) {
      process.stderr.write(`agentbalance: ${err.message}\n`);
      return err.code;
    }
    if (isUserFacing(err)) {
      process.stderr.write(`agentbalance: ${err.message.split('\n')[0]}\n`);
      return EXIT.badInput;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`agentbalance: ${msg.split('\n')[0]}\n`);
    if (productEnv().AGENTBALANCE_DEBUG) console.error(err);
    return EXIT.error;
  }
}
