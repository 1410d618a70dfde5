import type { RandomSource } from './ports';
import type { MonitorOptions } from './state';

/**
 * The wait before the next status check. Each check costs a Lambda invocation and three state
 * transitions (check, choice, wait), so the wait grows while nothing changes. Two caps keep the delay between a job
 * ending and the monitor noticing small relative to the job's length.
 *
 * - Growth: the ceiling is `pollInitialSeconds * 1.5^(attempt - 1)`, capped at `pollMaxSeconds`.
 * - Age cap: the ceiling is also at most 10 % of the job's age, but never below
 *   `pollInitialSeconds`. A job that ends at age T is therefore noticed by about
 *   max(1.1 T, T + pollInitialSeconds): a 5-minute job within 30 s, a 1-day job within the
 *   15-minute `pollMaxSeconds` default.
 * - Jitter: the wait is uniform between `pollInitialSeconds` and the ceiling ("full jitter" above
 *   a floor), so monitors started together spread out, and no wait is shorter than the floor.
 * - Reset: the wait is exactly `pollInitialSeconds` when progress moved or reached 90 (EODH's
 *   "delivering outputs" step), because the end is then near.
 * - `Retry-After` replaces the wait when it is longer, up to `pollMaxSeconds`. A server that
 *   requests an hour still gets a request every `pollMaxSeconds`, so the wait stays in the one
 *   range every caller relies on.
 */

export const growthFactor = 1.5;
export const ageCapFraction = 0.1;
export const deliveryProgress = 90;

/** Largest value the options schema accepts for either poll setting. */
const maxPollSeconds = 86_400;

export interface ScheduleInput {
  options: Pick<MonitorOptions, 'pollInitialSeconds' | 'pollMaxSeconds'>;
  /** Checks made so far, this one included; 1 after the first check. */
  attempt: number;
  /** Seconds since the job was created (or monitoring started). */
  jobAgeSeconds: number;
  progressChanged: boolean;
  progress: number | null;
  /** Seconds from a `Retry-After` header, or null. */
  retryAfterSeconds: number | null;
  random: RandomSource;
}

function clampInteger(value: number, min: number, max: number, fallback: number): number {
  if (!Number.isFinite(value)) return fallback;
  return Math.min(max, Math.max(min, Math.floor(value)));
}

/** Effective poll bounds, repaired when the options are not finite or out of order. */
export function pollBounds(options: ScheduleInput['options']): { initial: number; max: number } {
  const max = clampInteger(options.pollMaxSeconds, 1, maxPollSeconds, 300);
  const initial = clampInteger(options.pollInitialSeconds, 1, max, Math.min(15, max));
  return { initial, max };
}

/** Largest wait a `Retry-After` header can set. */
export function retryAfterCapSeconds(options: ScheduleInput['options']): number {
  return pollBounds(options).max;
}

/**
 * Computes whole seconds until the next check: an integer in [1, pollMaxSeconds] whatever the
 * inputs. Non-finite or negative inputs fall back to the safe end (no growth, no age cap, no
 * jitter), so the result is never NaN.
 */
export function nextCheckSeconds(input: ScheduleInput): number {
  const { initial, max } = pollBounds(input.options);

  const attempt = clampInteger(input.attempt, 1, Number.MAX_SAFE_INTEGER, 1);
  // 1.5^64 is about 2e11, far past any pollMaxSeconds, and keeps the power finite.
  let ceiling = initial * growthFactor ** Math.min(attempt - 1, 64);

  const nearEnd =
    input.progress !== null && Number.isFinite(input.progress) && input.progress >= deliveryProgress;
  if (input.progressChanged === true || nearEnd) {
    ceiling = initial;
  }

  const ageSeconds =
    Number.isFinite(input.jobAgeSeconds) && input.jobAgeSeconds > 0 ? input.jobAgeSeconds : 0;
  ceiling = Math.min(ceiling, Math.max(initial, ageSeconds * ageCapFraction), max);

  const drawn = input.random();
  const fraction = Number.isFinite(drawn) ? Math.min(1, Math.max(0, drawn)) : 0;
  let seconds = Math.round(initial + fraction * (ceiling - initial));
  seconds = Math.min(max, Math.max(1, seconds));

  const retryAfter = input.retryAfterSeconds;
  if (retryAfter !== null && Number.isFinite(retryAfter) && retryAfter > seconds) {
    seconds = Math.min(Math.ceil(retryAfter), max);
  }
  return seconds;
}
