import { z } from 'zod';
import { type Outcome, outcomes } from '../lambdas/core/state';

/** Deployment settings read from CDK context (cdk.json or `-c key=value`), validated at synth time. */
export interface StackConfig {
  /** Base URL of the OGC API - Processes service, without a trailing slash. */
  apiUrl: string;
  /** Host names the functions may fetch from and send the token to. `*.example.org` matches subdomains. */
  allowedHosts: string[];
  notificationEmails: string[];
  /** Outcomes that are e-mailed to the subscribers. */
  notifyOn: Outcome[];
  tokenSecretName: string;
  /** Existing bucket to archive into. When unset, the stack creates one. */
  archiveBucketName?: string;
  /** Key prefix of every archived object, without leading or trailing slash. */
  archivePrefix: string;
  pollInitialSeconds: number;
  pollMaxSeconds: number;
  maxJobAgeHours: number;
  logWaitSeconds: number;
  transientErrorBudget: number;
  authErrorBudget: number;
  /** Minimum seconds a run of transient failures lasts before `monitor_error`. */
  transientErrorBudgetSeconds: number;
  /** Minimum seconds a run of 401/403 responses lasts before `monitor_error`. */
  authErrorBudgetSeconds: number;
  checksPerExecution: number;
  /** Hours without a status or progress change before one "job looks stuck" warning. */
  stuckAfterHours: number;
  /** Whether a job past `maxJobAgeHours` is dismissed. */
  dismissOnTimeout: boolean;
  /** Days after which archived objects expire. When unset, they are kept. */
  archiveRetentionDays?: number;
}

/** Error for an invalid context value. Its message names the key, the value and the expected form. */
export class StackConfigError extends Error {
  override readonly name = 'StackConfigError';
  readonly key: string;

  constructor(key: string, message: string) {
    super(message);
    this.key = key;
  }
}

export const defaultApiUrl = 'https://eodatahub.org.uk';
export const defaultWorkspaceHostPattern = '*.eodatahub-workspaces.org.uk';

const hostLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// S3 lists these characters as safe in object keys. Others may need URL encoding in some clients.
const prefixSegment = /^[A-Za-z0-9!_.*'()-]+$/;
const bucketName = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ipv4Address = /^\d{1,3}(\.\d{1,3}){3}$/;

function isHostName(value: string): boolean {
  if (value.length > 253) {
    return false;
  }
  const labels = value.split('.');
  const topLevel = labels.at(-1) ?? '';
  // An all-digit top-level label means an IPv4 literal, which the allowlist does not take.
  return labels.length >= 2 && labels.every((label) => hostLabel.test(label)) && !/^\d+$/.test(topLevel);
}

function isHostPattern(value: string): boolean {
  return value.startsWith('*.') ? isHostName(value.slice(2)) : isHostName(value);
}

/** Checks whether `host` matches one of `patterns`. A `*.` pattern matches subdomains but not the apex. */
export function hostMatches(host: string, patterns: readonly string[]): boolean {
  const normalized = host.toLowerCase();
  return patterns.some((pattern) =>
    pattern.startsWith('*.') ? normalized.endsWith(pattern.slice(1)) : normalized === pattern,
  );
}

const decimal = /^-?\d+(\.\d+)?$/;

/** Turns a decimal string from `-c key=value` into a number and leaves anything else for zod to reject. */
function toNumber(value: unknown): unknown {
  return typeof value === 'string' && decimal.test(value.trim()) ? Number(value.trim()) : value;
}

/** Turns `true` or `false` from `-c key=value` into a boolean and leaves anything else for zod to reject. */
function toBoolean(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.trim().toLowerCase();
  if (text === 'true') return true;
  if (text === 'false') return false;
  return value;
}

/**
 * Turns a comma-separated string or a JSON array string into a list, because `-c key=value`
 * always delivers a string. Anything else goes to zod unchanged.
 */
function toList(value: unknown): unknown {
  if (typeof value !== 'string') {
    return value;
  }
  const trimmed = value.trim();
  if (trimmed.startsWith('[')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return value;
    }
  }
  return trimmed
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function integer(min: number, max: number) {
  return z.preprocess(toNumber, z.number().int().min(min).max(max));
}

function isApiUrl(value: string): boolean {
  if (!URL.canParse(value)) {
    return false;
  }
  const url = new URL(value);
  return (
    url.protocol === 'https:' &&
    url.username === '' &&
    url.password === '' &&
    url.search === '' &&
    url.hash === '' &&
    isHostName(url.hostname)
  );
}

const apiUrlSchema = z
  .string()
  .trim()
  .refine(isApiUrl)
  .transform((value) => value.replace(/\/+$/, ''));

const hostListSchema = z.preprocess(
  toList,
  z
    .array(
      z
        .string()
        .trim()
        .toLowerCase()
        .refine((value) => isHostPattern(value)),
    )
    .min(1),
);

const emailListSchema = z.preprocess(toList, z.array(z.string().trim().pipe(z.email())));

const outcomeListSchema = z.preprocess(toList, z.array(z.enum(outcomes)).min(1));

const secretNameSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/);

const bucketNameSchema = z
  .string()
  .trim()
  .refine(
    (value) =>
      bucketName.test(value) &&
      !value.includes('..') &&
      !ipv4Address.test(value) &&
      !value.startsWith('xn--') &&
      !value.startsWith('sthree-') &&
      !value.endsWith('-s3alias') &&
      !value.endsWith('--ol-s3'),
  );

const archivePrefixSchema = z
  .string()
  .trim()
  .max(200)
  .refine((value) =>
    value.split('/').every((segment) => prefixSegment.test(segment) && segment !== '.' && segment !== '..'),
  );

/** Reads one context key: its default when unset, the parsed value when valid, a `StackConfigError` otherwise. */
function readSetting<T>(
  getContext: (key: string) => unknown,
  key: string,
  schema: z.ZodType<T>,
  expected: string,
  fallback: T,
): T {
  const raw = getContext(key);
  if (raw === undefined || raw === null) {
    return fallback;
  }
  const result = schema.safeParse(raw);
  if (result.success) {
    return result.data;
  }
  throw new StackConfigError(key, invalidValueMessage(key, raw, expected, result.error));
}

function invalidValueMessage(key: string, raw: unknown, expected: string, error: z.ZodError): string {
  let entryNote = '';
  const index = error.issues[0]?.path[0];
  if (typeof index === 'number') {
    const list = toList(raw);
    const entry = Array.isArray(list) ? list[index] : undefined;
    entryNote = ` Entry ${JSON.stringify(entry)} is not valid.`;
  }
  return (
    `Invalid CDK context value for ${key}: ${JSON.stringify(raw)}.${entryNote} Expected ${expected}. ` +
    `Set it in cdk.json under "context" or with -c ${key}=<value>.`
  );
}

/**
 * Reads and validates the stack configuration from CDK context, applying defaults.
 *
 * @param getContext - returns the raw context value of a key, or undefined when unset
 *   (`(key) => app.node.tryGetContext(key)`)
 * @throws StackConfigError naming the first invalid key
 */
export function readStackConfig(getContext: (key: string) => unknown): StackConfig {
  const apiUrl = readSetting(
    getContext,
    'apiUrl',
    apiUrlSchema,
    'an https URL without credentials, query or fragment, such as https://eodatahub.org.uk',
    defaultApiUrl,
  );
  const apiHost = new URL(apiUrl).hostname;

  const allowedHosts = readSetting(
    getContext,
    'allowedHosts',
    hostListSchema,
    'a non-empty list (or comma-separated string) of host names such as api.example.org or wildcards such as *.example.org',
    [apiHost, defaultWorkspaceHostPattern],
  );
  if (!hostMatches(apiHost, allowedHosts)) {
    throw new StackConfigError(
      'allowedHosts',
      `Invalid CDK context value for allowedHosts: ${JSON.stringify(allowedHosts)}. ` +
        `It does not include the apiUrl host ${apiHost}, so no job status could be fetched. Add ${apiHost} to the list.`,
    );
  }

  const notificationEmails = readSetting(
    getContext,
    'notificationEmails',
    emailListSchema,
    'a list (or comma-separated string) of e-mail addresses such as ops@example.org',
    [],
  );

  const notifyOn = readSetting(
    getContext,
    'notifyOn',
    outcomeListSchema,
    `a non-empty list (or comma-separated string) of outcomes from: ${outcomes.join(', ')}`,
    [...outcomes],
  );

  const tokenSecretName = readSetting(
    getContext,
    'tokenSecretName',
    secretNameSchema,
    'a Secrets Manager secret name of 1 to 512 characters from A-Z a-z 0-9 / _ + = . @ -',
    'eodh/api-token',
  );

  const archiveBucketName = readSetting<string | undefined>(
    getContext,
    'archiveBucketName',
    bucketNameSchema,
    'an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit',
    undefined,
  );

  const archivePrefix = readSetting(
    getContext,
    'archivePrefix',
    archivePrefixSchema,
    "a key prefix of at most 200 characters from A-Z a-z 0-9 ! _ . * ' ( ) - in /-separated segments, " +
      'without leading, trailing or double slashes and without . or .. segments',
    'eodh-jobs',
  );

  const pollInitialSeconds = readSetting(
    getContext,
    'pollInitialSeconds',
    integer(1, 86_400),
    'a whole number of seconds from 1 to 86400',
    15,
  );
  const pollMaxSeconds = readSetting(
    getContext,
    'pollMaxSeconds',
    integer(1, 86_400),
    'a whole number of seconds from 1 to 86400',
    // 15 minutes: each check costs three state transitions and an invocation, and the age cap
    // (10 % of the job's age) still keeps short jobs' waits short.
    900,
  );
  if (pollInitialSeconds > pollMaxSeconds) {
    throw new StackConfigError(
      'pollInitialSeconds',
      `Invalid CDK context value for pollInitialSeconds: ${pollInitialSeconds}. ` +
        `Expected at most pollMaxSeconds (${pollMaxSeconds}). Lower pollInitialSeconds or raise pollMaxSeconds.`,
    );
  }

  const maxJobAgeHours = readSetting(
    getContext,
    'maxJobAgeHours',
    z.preprocess(toNumber, z.number().positive().max(8_760)),
    'a number of hours greater than 0 and at most 8760 (one year)',
    // 45 days: EODH puts no bound on job length, and a 30-day job must reach its outcome.
    1_080,
  );
  const logWaitSeconds = readSetting(
    getContext,
    'logWaitSeconds',
    integer(0, 3_600),
    'a whole number of seconds from 0 to 3600',
    60,
  );
  const transientErrorBudget = readSetting(
    getContext,
    'transientErrorBudget',
    integer(1, 10_000),
    'a whole number of consecutive failed checks from 1 to 10000',
    40,
  );
  const authErrorBudget = readSetting(
    getContext,
    'authErrorBudget',
    integer(1, 10_000),
    'a whole number of consecutive rejected checks from 1 to 10000',
    5,
  );
  const transientErrorBudgetSeconds = readSetting(
    getContext,
    'transientErrorBudgetSeconds',
    integer(0, 2_592_000),
    'a whole number of seconds from 0 to 2592000 (30 days)',
    21_600,
  );
  const authErrorBudgetSeconds = readSetting(
    getContext,
    'authErrorBudgetSeconds',
    integer(0, 2_592_000),
    'a whole number of seconds from 0 to 2592000 (30 days)',
    172_800,
  );
  // Step Functions fails an execution at 25,000 history events. One check loop writes 9 of them
  // (Wait, Lambda task and Choice events), so 2,000 checks leave room for the archive Map.
  const checksPerExecution = readSetting(
    getContext,
    'checksPerExecution',
    integer(1, 2_000),
    'a whole number of checks from 1 to 2000',
    500,
  );
  const stuckAfterHours = readSetting(
    getContext,
    'stuckAfterHours',
    z.preprocess(toNumber, z.number().positive().max(8_760)),
    'a number of hours greater than 0 and at most 8760',
    72,
  );
  const dismissOnTimeout = readSetting(
    getContext,
    'dismissOnTimeout',
    z.preprocess(toBoolean, z.boolean()),
    'true or false',
    false,
  );

  const archiveRetentionDays = readSetting<number | undefined>(
    getContext,
    'archiveRetentionDays',
    integer(1, 36_500),
    'a whole number of days from 1 to 36500, or no value to keep archived objects',
    undefined,
  );

  return {
    apiUrl,
    allowedHosts: [...new Set(allowedHosts)],
    notificationEmails: [...new Set(notificationEmails)],
    notifyOn: [...new Set(notifyOn)],
    tokenSecretName,
    archiveBucketName,
    archivePrefix,
    pollInitialSeconds,
    pollMaxSeconds,
    maxJobAgeHours,
    logWaitSeconds,
    transientErrorBudget,
    authErrorBudget,
    transientErrorBudgetSeconds,
    authErrorBudgetSeconds,
    checksPerExecution,
    stuckAfterHours,
    dismissOnTimeout,
    archiveRetentionDays,
  };
}
