/** Exit codes of every `eodh-monitor` command. */
export const ExitCode = {
  /** The command did its work; for `run`, the job succeeded. */
  ok: 0,
  /** The monitored job did not succeed (failed, dismissed, timed out, monitor error). */
  jobNotSucceeded: 1,
  /** Invalid arguments, scenario or configuration. */
  usage: 2,
} as const;

/** A problem with the command line, a scenario file or configuration; exits with code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
