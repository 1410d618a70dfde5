import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Running benchmark children: Node 24 from the project, optionally under GNU time for peak RSS. */

export const projectRoot = new URL('..', import.meta.url).pathname.replace(/\/$/, '');

/** The Node binary the npm scripts use (the `node` devDependency, Node 24). */
export const nodeBinary = `${projectRoot}/node_modules/.bin/node`;

const gnuTime = '/usr/bin/time';

export interface ChildResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** Peak resident set size in KiB from GNU time, or null when GNU time is not installed. */
  maxRssKiB: number | null;
}

export interface RunChildOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Wraps the command in `/usr/bin/time -v` when it exists, to read the peak RSS. */
  measureRss?: boolean;
  /** Kills the child after this many milliseconds. @default 600000 */
  timeoutMs?: number;
}

/** Returns whether GNU time is installed, which `measureRss` needs. */
export function gnuTimeAvailable(): boolean {
  return existsSync(gnuTime);
}

/**
 * Parses the peak RSS from the report of GNU `time -v` ("Maximum resident set size (kbytes):
 * 61234"). Returns KiB, or null when the line is missing.
 */
export function parseMaxRssKiB(timeReport: string): number | null {
  const match = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(timeReport);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/**
 * Runs `command` with `args` and collects its output. Rejects when it cannot start or exits with
 * a code other than 0, with its stderr in the message.
 */
export function runChild(
  command: string,
  args: readonly string[],
  options: RunChildOptions = {},
): Promise<ChildResult> {
  const wrap = options.measureRss === true && gnuTimeAvailable();
  const file = wrap ? gnuTime : command;
  const argv = wrap ? ['-v', command, ...args] : [...args];

  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, {
      cwd: options.cwd ?? projectRoot,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const exitCode = code ?? 1;
      if (exitCode !== 0) {
        const reason = signal === null ? `exit code ${exitCode}` : `signal ${signal}`;
        reject(new Error(`${command} ${args.join(' ')} failed with ${reason}:\n${stderr.slice(-4000)}`));
        return;
      }
      resolve({ stdout, stderr, exitCode, maxRssKiB: wrap ? parseMaxRssKiB(stderr) : null });
    });
  });
}

/** Returns the last line of `stdout` parsed as JSON: the result line every benchmark child prints. */
export function lastJsonLine<T>(stdout: string): T {
  const line = stdout.trimEnd().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch (error) {
    throw new Error(`expected a JSON result line from the child, got: ${line.slice(0, 500)}`, {
      cause: error,
    });
  }
}

/** The tsx loader, so children run the project's TypeScript with extensionless imports. */
export const tsxNodeArgs = ['--import', 'tsx'];

export interface ServiceChild<T> {
  /** The first JSON line the child printed, once it was ready. */
  info: T;
  /**
   * Sends SIGTERM, waits for the child to exit and returns the last JSON line it printed after
   * the ready line, or null when it printed none.
   */
  stop(): Promise<unknown>;
}

/**
 * Starts a long-running child (a server) and resolves with the first JSON line it prints, which
 * reports that it is ready and where it listens. Rejects when the child exits before that line.
 */
export function startServiceChild<T>(script: string, env: NodeJS.ProcessEnv): Promise<ServiceChild<T>> {
  const child = spawn(nodeBinary, [...tsxNodeArgs, script], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // 'close' comes after the child's stdout has ended, so every line it printed has arrived.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });

  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (text: string) => {
      buffered += text;
      const newline = buffered.indexOf('\n');
      if (newline < 0) {
        return;
      }
      child.stdout.off('data', onData);
      child.off('exit', onEarlyExit);
      let later = buffered.slice(newline + 1);
      child.stdout.on('data', (more: string) => {
        later += more;
      });
      try {
        const info = JSON.parse(buffered.slice(0, newline)) as T;
        resolve({
          info,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
            const last = later.trimEnd().split('\n').at(-1) ?? '';
            try {
              return last === '' ? null : (JSON.parse(last) as unknown);
            } catch {
              return null;
            }
          },
        });
      } catch (error) {
        child.kill('SIGKILL');
        reject(
          new Error(`${script} printed no JSON ready line: ${buffered.slice(0, 500)}`, { cause: error }),
        );
      }
    };
    const onEarlyExit = (code: number | null) => {
      reject(new Error(`${script} exited with code ${code} before it was ready:\n${stderr}`));
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.once('exit', onEarlyExit);
    child.once('error', reject);
  });
}
