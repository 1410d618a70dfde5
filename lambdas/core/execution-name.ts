import { createHash } from 'node:crypto';

/** Step Functions execution names are 1-80 characters. */
export const maxExecutionNameLength = 80;

const hashLength = 12;

/**
 * Returns the execution name that monitors `jobId` in a given generation: the job ID itself for
 * generation 0 and `<jobId>--g<n>` for continuations. Characters outside `A-Z a-z 0-9 - _` are
 * replaced by `_` (Step Functions rejects spaces, brackets, wildcards, punctuation and control
 * characters in names). A name that would pass 80 characters, or that had characters replaced,
 * is cut and ends in a 12-character hash of the job ID. Distinct job IDs therefore keep distinct names,
 * and the same job ID always maps to the same name.
 */
export function executionName(jobId: string, generation = 0): string {
  if (!Number.isSafeInteger(generation) || generation < 0) {
    throw new RangeError(`invalid generation ${generation}: expected a whole number from 0`);
  }
  const suffix = generation === 0 ? '' : `--g${generation}`;
  const cleaned = jobId.replace(/[^A-Za-z0-9_-]/g, '_');
  if (cleaned === jobId && cleaned.length > 0 && cleaned.length + suffix.length <= maxExecutionNameLength) {
    return `${cleaned}${suffix}`;
  }
  const hash = createHash('sha256').update(jobId).digest('hex').slice(0, hashLength);
  const room = maxExecutionNameLength - suffix.length - hashLength - 1;
  return `${cleaned.slice(0, room)}-${hash}${suffix}`;
}
