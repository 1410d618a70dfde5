import type { ArchiveResult } from './archiving/benchmark';
import type { ColdStartResult } from './cold-start';
import type { CostResult } from './cost/benchmark';
import type { MachineInfo } from './machine';

/** The shape of bench/results.json. */

/** When a part ran and how long it took; a part that failed records its error instead of results. */
export interface PartRun {
  date: string;
  durationSeconds: number;
}

export type PartResult<T> = (T & PartRun) | (PartRun & { error: string }) | null;

export interface TargetCheck {
  id:
    | 'transitions'
    | 'detectionDelay'
    | 'thirtyDayJob'
    | 'archiveThroughput'
    | 'archiveMemory'
    | 'bundleSize';
  target: string;
  measured: string;
  /** null when the part that measures it did not run. */
  met: boolean | null;
  /** By how much and why, when missed. */
  note: string;
}

export interface BenchResults {
  command: string;
  machine: MachineInfo;
  cost: PartResult<CostResult>;
  archive: PartResult<ArchiveResult>;
  coldStart: PartResult<ColdStartResult>;
  targets: TargetCheck[];
}

/** Returns the part's results, or null when it did not run or failed. */
export function completed<T>(part: PartResult<T>): (T & PartRun) | null {
  return part === null || 'error' in part ? null : (part as T & PartRun);
}
