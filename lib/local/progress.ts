import type { CheckResult } from '../../lambdas/core/state';
import { StateName } from '../state-names';

/** Event the local runtime reports while it runs, for the progress line. */
export type ProgressEvent =
  | { kind: 'check'; check: CheckResult }
  | { kind: 'state'; name: string }
  | { kind: 'archive'; files: number; batches: number };

export interface ProgressWriter {
  update(event: ProgressEvent): void;
  /** Ends the live line so the next output starts on a fresh line. */
  finish(): void;
}

interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

function describeCheck(check: CheckResult): string {
  const parts: string[] = [check.status];
  if (check.progress !== null) parts.push(`${check.progress}%`);
  if (check.message) parts.push(firstLine(check.message, 80));
  if (check.lastError) parts.push(`(${firstLine(check.lastError, 80)})`);
  return parts.join(' ');
}

function firstLine(text: string, maxLength: number): string {
  const line = text.split('\n', 1)[0]?.trim() ?? '';
  return line.length > maxLength ? `${line.slice(0, maxLength - 1)}…` : line;
}

/**
 * Creates a writer that keeps one live line on a terminal and prints a plain line per change
 * otherwise, so logs in CI and pipes stay readable.
 */
export function createProgressWriter(output: Output, clock: () => number = Date.now): ProgressWriter {
  const startedAt = clock();
  let lastPlain = '';
  let liveLineOpen = false;

  const elapsed = (): string => {
    const seconds = Math.max(0, Math.round((clock() - startedAt) / 1000));
    const minutes = Math.floor(seconds / 60);
    return `${String(minutes).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
  };

  const show = (text: string): void => {
    if (output.isTTY) {
      output.write(`\r\x1b[2K[${elapsed()}] ${text}`);
      liveLineOpen = true;
      return;
    }
    if (text === lastPlain) return;
    lastPlain = text;
    output.write(`[${elapsed()}] ${text}\n`);
  };

  return {
    update(event) {
      switch (event.kind) {
        case 'check': {
          const next = event.check.next === 'wait' || event.check.next === 'wait_for_logs';
          const suffix = next && output.isTTY ? ` · next check in ${event.check.nextCheckSeconds} s` : '';
          const waitingForLogs = event.check.next === 'wait_for_logs' ? ' · waiting for log links' : '';
          show(`${describeCheck(event.check)}${waitingForLogs}${suffix}`);
          break;
        }
        case 'archive':
          show(`archiving ${event.files} file(s) in ${event.batches} batch(es)`);
          break;
        case 'state':
          if (event.name === StateName.publishOutcome) show('publishing the outcome');
          if (event.name === StateName.continueInNewExecution) show('continuing in a new execution');
          break;
      }
    },
    finish() {
      if (liveLineOpen) output.write('\n');
      liveLineOpen = false;
    },
  };
}
