/**
 * Exit codes (README "Exit codes"): 0 done, 1 an unexpected error, 2 bad input (one line on
 * stderr), 3 a run where every agent failed (the provider error on stderr), 130 interrupted.
 */
export const EXIT = { ok: 0, error: 1, badInput: 2, allAgentsFailed: 3, interrupted: 130 } as const;

/** A command that finished but must exit non-zero; its message is one line for stderr. */
export class ExitCode extends Error {
  override readonly name = 'ExitCode';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
