import { Command, CommanderError } from 'commander';
import { UserError } from './errors';
import { registerServerCommand } from './commands/server';
import { registerWorkerCommand } from './commands/worker';
import { registerRunCommand } from './commands/run';
import { registerPoolCommands } from './commands/pool';
import { registerCampaignCommands } from './commands/campaign';
import { registerDesignerCommands } from './commands/designer';

/** Errors a user can fix: one line, exit 2, no stack trace. */
function isUserFacing(err: unknown): err is Error {
  if (err instanceof UserError) return true;
  const name = err instanceof Error ? err.name : '';
  return ['PoolLoadError', 'PoolFileError', 'DatasetError', 'MissingApiKeyError', 'MasSpecError'].includes(name);
}

export function buildProgram(): Command {
  const program = new Command('agentbalance')
    .description('Cost- and latency-budgeted LLM multi-agent systems, run durably on Temporal')
    .showHelpAfterError()
    .exitOverride();
  registerServerCommand(program);
  registerWorkerCommand(program);
  registerRunCommand(program);
  registerPoolCommands(program);
  registerCampaignCommands(program);
  registerDesignerCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (isUserFacing(err)) {
      process.stderr.write(`agentbalance: ${err.message.split('\n')[0]}\n`);
      return 2;
    }
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`agentbalance: ${msg}\n`);
    if (process.env.AGENTBALANCE_DEBUG) console.error(err);
    return 1;
  }
}
