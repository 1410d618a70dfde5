/**
 * Step Functions Standard workflow pricing: $0.025 per 1,000 state transitions (us-east-1 and
 * most regions, from the AWS Step Functions pricing page), free tier left out. Lambda and
 * request costs are not included.
 */
export const usdPerThousandTransitions = 0.025;

/** Returns the cost in US dollars of `transitions` state transitions. */
export function transitionCostUsd(transitions: number): number {
  if (!Number.isFinite(transitions) || transitions < 0) {
    throw new RangeError(`invalid transition count ${transitions}: expected a number of at least 0`);
  }
  return (transitions / 1000) * usdPerThousandTransitions;
}
