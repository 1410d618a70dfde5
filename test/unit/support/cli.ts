import { type CliDependencies, main } from '../../../lib/cli/program';

/** Output and exit code of one command line run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Milliseconds passed to each `sleep` call, in order. */
  sleeps: number[];
}

export interface CliRunOptions {
  env?: Record<string, string>;
  /** Region the AWS profile would give; undefined means no profile region. */
  profileRegion?: string;
  /** Whether stderr is a terminal, for the live progress line. */
  tty?: boolean;
}

/**
 * Runs `eodh-monitor` in-process with captured output, no profile lookup and a `sleep` that
 * returns at once and advances a fake clock, so commands that poll finish without waiting.
 */
export async function runCli(args: string[], options: CliRunOptions = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  let now = Date.parse('2026-11-30T09:00:00Z');
  const sleeps: number[] = [];
  const deps: CliDependencies = {
    profileRegion: async () => options.profileRegion,
    sleep: async (milliseconds) => {
      sleeps.push(milliseconds);
      now += milliseconds;
    },
    now: () => now,
  };
  const code = await main(
    args,
    {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text), isTTY: options.tty ?? false },
      env: options.env ?? {},
    },
    deps,
  );
  return { code, stdout, stderr, sleeps };
}
