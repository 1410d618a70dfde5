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

/** Formats elapsed seconds as `mm:ss`, `h:mm:ss` past an hour and `Nd hh:mm:ss` past a day. */
export function formatElapsed(totalSeconds: number): string {
  const two = (value: number): string => String(value).padStart(2, '0');
  const days = Math.floor(totalSeconds / 86_400);
  const hours = Math.floor((totalSeconds % 86_400) / 3_600);
  const minutes = Math.floor((totalSeconds % 3_600) / 60);
  const seconds = totalSeconds % 60;
  if (days > 0) return `${days}d ${two(hours)}:${two(minutes)}:${two(seconds)}`;
  if (hours > 0) return `${hours}:${two(minutes)}:${two(seconds)}`;
  return `${two(minutes)}:${two(seconds)}`;
}

/**
 * Creates a writer that keeps one live line on a terminal and prints a plain line per change
 * otherwise, so logs in CI and pipes stay readable.
 */
export function createProgressWriter(output: Output, clock: () => number = Date.now): ProgressWriter {
  const startedAt = clock();
  let lastPlain = '';
  let liveLineOpen = false;

  const elapsed = (): string => formatElapsed(Math.max(0, Math.round((clock() - startedAt) / 1000)));

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
