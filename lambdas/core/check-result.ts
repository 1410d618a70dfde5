import * as z from 'zod';
import { type CheckResult, giveUpReasons, jobStatuses, nextSteps, warningKinds } from './state';

/**
 * Schema of a `CheckResult` as it comes back into a Task input: the previous check passed to
 * `Check job status`, or the last check carried into a new execution. Fields added after the
 * first release are optional, so a state written by an older version still parses.
 */

const nullableText = z.string().nullable();
const counter = z.number().int().min(0);
const isoTime = z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'must be an ISO 8601 time');

const baseCheckResultSchema = z.object({
  status: z.enum(jobStatuses),
  rawStatus: nullableText,
  progress: z.number().nullable(),
  message: nullableText,
  processId: nullableText,
  created: nullableText,
  started: nullableText,
  finished: nullableText,
  updated: nullableText,
  resultsUrl: nullableText,
  logUrls: counter,
  checks: counter,
  consecutiveTransientErrors: counter,
  consecutiveAuthErrors: counter,
  lastError: nullableText,
  lastCheckedAt: z.string(),
  terminalSeenAt: nullableText,
  next: z.enum(nextSteps),
  giveUpReason: z.enum(giveUpReasons).nullable(),
  nextCheckSeconds: z.number().int().min(1),
  checksThisExecution: counter.optional(),
  transientErrorsSince: isoTime.nullable().optional(),
  authErrorsSince: isoTime.nullable().optional(),
  lastChangeAt: isoTime.nullable().optional(),
  warningsSent: z.array(z.enum(warningKinds)).max(warningKinds.length).optional(),
  dismissal: z.enum(['dismissed', 'failed']).nullable().optional(),
});

/**
 * Check result schema. Unknown keys are dropped, `continuation` among them: a carried check
 * travels inside a continuation input and never needs one of its own.
 */
export const checkResultSchema: z.ZodType<CheckResult> = baseCheckResultSchema;

/** Validates a check result, naming the first invalid field as `<field>.<path>`. */
export function parseCheckResult(
  value: unknown,
  field: string,
): { ok: true; check: CheckResult } | { ok: false; field: string; message: string } {
  const parsed = checkResultSchema.safeParse(value);
  if (parsed.success) return { ok: true, check: parsed.data };
  const issue = parsed.error.issues[0];
  return {
    ok: false,
    field: [field, ...(issue?.path ?? []).map(String)].join('.'),
    message: issue?.message ?? 'invalid value',
  };
}
