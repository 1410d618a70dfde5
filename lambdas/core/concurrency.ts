/**
 * Maps `items` through `task` with at most `limit` calls in flight and returns the results in
 * input order. The first rejection rejects the whole call once the running calls settle, and no
 * new call starts after it.
 */
export async function mapWithConcurrency<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;

  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next;
      next += 1;
      try {
        results[index] = await task(items[index] as T, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };

  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker);
  const settled = await Promise.allSettled(workers);
  const rejection = settled.find((outcome) => outcome.status === 'rejected');
  if (rejection) {
    throw rejection.reason;
  }
  return results;
}

/** How often and how long to wait before trying a failed request again. */
export interface RetryPolicy {
  /** Attempts in total, the first included. */
  attempts: number;
  /** Milliseconds to wait after failed attempt `attempt` (1-based). */
  delayMs: (attempt: number) => number;
  sleep: (milliseconds: number) => Promise<void>;
}

export const sleep = (milliseconds: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, milliseconds));

/**
 * Three attempts, 1 s and then 4 s apart. EODH's own services retry 429, 502 and 503 with
 * backoff, so those responses are expected to be short-lived.
 */
export const defaultRetryPolicy: RetryPolicy = {
  attempts: 3,
  delayMs: (attempt) => 1000 * 4 ** (attempt - 1),
  sleep,
};

/**
 * Runs `attempt` until it returns a result that is not `retryable` or the attempts run out,
 * and returns the last result. Thrown errors are not retried.
 */
export async function retrying<T extends { retryable: boolean }>(
  policy: RetryPolicy,
  attempt: (attemptNumber: number) => Promise<T>,
): Promise<T> {
  for (let attemptNumber = 1; ; attemptNumber += 1) {
    const result = await attempt(attemptNumber);
    if (!result.retryable || attemptNumber >= policy.attempts) {
      return result;
    }
    await policy.sleep(policy.delayMs(attemptNumber));
  }
}
