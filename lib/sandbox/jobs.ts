import { type ResultItem, resultIndex } from './results';
import {
  isTerminalStatus,
  type RawOverride,
  type Scenario,
  type ScenarioItem,
  type TimelineEntry,
} from './scenario-schema';
import type { ResolvedContent } from './scenarios';

/** One submitted job: the scenario it follows and when it was submitted. */
export interface Job {
  readonly id: string;
  /** The process named in the execute URL; it can differ from `scenario.processId`. */
  readonly processId: string;
  readonly scenario: Scenario;
  /** Asset contents keyed by `<itemId>/<assetKey>`, with sizes from the environment resolved. */
  readonly contents: ReadonlyMap<string, ResolvedContent>;
  /** Milliseconds since the epoch, from the sandbox clock. */
  readonly submittedAt: number;
  /** Set by DELETE: the status, results and logs are gone from then on. */
  dismissedAt: number | null;
  /** How many requests each raw override (by index) has replaced, for `count`. */
  readonly overrideUses: number[];
}

export function createJob(
  id: string,
  processId: string,
  scenario: Scenario,
  contents: ReadonlyMap<string, ResolvedContent>,
  submittedAt: number,
): Job {
  return {
    id,
    processId,
    scenario,
    contents,
    submittedAt,
    dismissedAt: null,
    overrideUses: scenario.raw.map(() => 0),
  };
}

function elapsedSeconds(job: Job, now: number): number {
  return (now - job.submittedAt) / 1000;
}

/** Returns the timeline entry in effect at `now`, or null before the first entry (the accepted document). */
export function currentEntry(job: Job, now: number): TimelineEntry | null {
  const elapsed = elapsedSeconds(job, now);
  let current: TimelineEntry | null = null;
  for (const entry of job.scenario.timeline) {
    if (entry.at > elapsed) {
      break;
    }
    current = entry;
  }
  return current;
}

/** Returns the first terminal entry reached by `now`. Its time is the job's `finished` time. */
export function finishingEntry(job: Job, now: number): TimelineEntry | null {
  const elapsed = elapsedSeconds(job, now);
  return job.scenario.timeline.find((entry) => entry.at <= elapsed && isTerminalStatus(entry.status)) ?? null;
}

/** Returns whether the job is `successful` at `now` and its scenario defines results (items or `empty`). */
export function resultsAvailable(job: Job, now: number): boolean {
  return currentEntry(job, now)?.status === 'successful' && job.scenario.results !== 'none';
}

/** Result items of a job from every catalog, counts expanded, or an empty list for `empty` and `none`. */
export function resultItems(job: Job): ScenarioItem[] {
  return resultIndex(job.scenario)?.items.map((entry) => entry.item) ?? [];
}

/** Finds a result item of a job by ID, with the path of the catalog that defines it. */
export function findResultItem(job: Job, itemId: string): ResultItem | undefined {
  return resultIndex(job.scenario)?.byId.get(itemId);
}

export interface EntryLinks {
  monitor: boolean;
  results: boolean;
  logs: string[];
  parent: boolean;
}

/**
 * Links of an entry, with defaults that match EODH: `monitor` unless dismissed, `results` when
 * successful, every log when successful or failed, `parent` only when dismissed.
 */
export function entryLinks(job: Job, entry: TimelineEntry): EntryLinks {
  const settings = entry.links ?? {};
  const finishedWithLogs = entry.status === 'successful' || entry.status === 'failed';
  let logs = settings.logs ?? finishedWithLogs;
  if (logs === true) {
    logs = job.scenario.logs.map((log) => log.name);
  } else if (logs === false) {
    logs = [];
  }
  return {
    monitor: settings.monitor ?? entry.status !== 'dismissed',
    results: settings.results ?? entry.status === 'successful',
    logs,
    parent: settings.parent ?? entry.status === 'dismissed',
  };
}

/** Log names linked from the status document at `now`; only those logs are served. */
export function publishedLogs(job: Job, now: number): string[] {
  const entry = currentEntry(job, now);
  return entry === null ? [] : entryLinks(job, entry).logs;
}

/**
 * Returns the index of the token in the job's secret at `now`: the latest one stored by then,
 * or 0 (the sandbox's own token) for a job without rotation.
 */
export function storedTokenIndex(job: Job, now: number): number {
  const elapsed = elapsedSeconds(job, now);
  let index = 0;
  job.scenario.tokens.forEach((entry, position) => {
    if (entry.storedAt <= elapsed) index = position;
  });
  return index;
}

/**
 * Checks whether the job accepts token `index` at `now`: any sandbox token without rotation,
 * else only a token already stored and not yet expired.
 */
export function tokenAccepted(job: Job, index: number, now: number): boolean {
  if (job.scenario.tokens.length === 0) return true;
  const entry = job.scenario.tokens[index];
  if (entry === undefined) return false;
  const elapsed = elapsedSeconds(job, now);
  return entry.storedAt <= elapsed && (entry.expiresAt === undefined || elapsed < entry.expiresAt);
}

/**
 * Returns the raw override for `target` in effect at `now` and counts the use, or undefined.
 * The first matching override in file order wins; one whose `count` is used up no longer matches.
 */
export function takeOverride(job: Job, target: string, now: number): RawOverride | undefined {
  const elapsed = elapsedSeconds(job, now);
  const index = job.scenario.raw.findIndex(
    (override, position) =>
      override.target === target &&
      override.from <= elapsed &&
      (override.until === undefined || elapsed < override.until) &&
      (override.count === undefined || (job.overrideUses[position] ?? 0) < override.count),
  );
  if (index < 0) {
    return undefined;
  }
  job.overrideUses[index] = (job.overrideUses[index] ?? 0) + 1;
  return job.scenario.raw[index];
}
