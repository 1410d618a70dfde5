/**
 * Step Functions Standard workflows are billed per state transition. The benchmark assumes a
 * list price of $0.025 per 1,000 transitions. Regional prices and the free tier differ, and
 * Lambda costs are not included.
 */
export const usdPerThousandTransitions = 0.025;

/** Returns the cost in US dollars of `transitions` state transitions. */
export function transitionCostUsd(transitions: number): number {
  if (!Number.isFinite(transitions) || transitions < 0) {
    throw new RangeError(`invalid transition count ${transitions}: expected a number of at least 0`);
  }
  return (transitions / 1000) * usdPerThousandTransitions;
}
