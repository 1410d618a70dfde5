import * as z from 'zod';
import { ConfigurationError } from './errors';
import type { MonitorOptions } from './state';
import { assertUrlAllowed, describeValue, type HostPattern, parseHostPatterns } from './validation';

/**
 * Environment variables the CDK stack sets on the monitor's functions, parsed into one typed
 * object. Every invalid value throws `ConfigurationError` naming the variable, the value and the
 * expected form, so a bad deployment fails on its first invocation with a readable message.
 */

export type Env = Record<string, string | undefined>;

export interface MonitorConfig {
  /** EODH base URL without a trailing slash. */
  apiUrl: string;
  allowedHosts: HostPattern[];
  /** Secrets Manager secret name or ARN holding the EODH token, or null to use `EODH_TOKEN`. */
  tokenSecretName: string | null;
  /** Permits http:// and loopback addresses; only the local sandbox sets it. */
  allowLoopback: boolean;
  httpTimeoutMs: number;
  /** Defaults for the per-job options an execution input may override. */
  defaultOptions: MonitorOptions;
}

export const defaultApiUrl = 'https://eodatahub.org.uk';
export const workspaceHostPattern = '*.eodatahub-workspaces.org.uk';

/**
 * Minimum length of a run of failures before the monitor gives up. Six hours rides out an API
 * outage of an afternoon. Two days of 401/403 leave time to notice the token warning and
 * store a new token, even over a weekend day.
 */
export const defaultBudgetSeconds = { transient: 21_600, auth: 172_800 } as const;

/**
 * Step Functions fails an execution at 25,000 history events, and one wait-check-choice loop
 * writes 9, so 500 checks (about 4,500 events) leave a wide margin.
 */
export const defaultChecksPerExecution = 500;

/** EODH reports no progress while a workflow step runs, so a quiet day is normal; three are not. */
export const defaultStuckAfterHours = 72;

/**
 * Reads one variable through a zod schema; an empty string counts as unset.
 * @param expected - the accepted form in words, shown in the error message
 */
export function readEnvValue<T>(
  env: Env,
  name: string,
  schema: z.ZodType<T>,
  expected: string,
  fallback: T,
): T {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const result = schema.safeParse(raw.trim());
  if (!result.success) {
    throw new ConfigurationError(`invalid ${name} ${describeValue(raw)}: expected ${expected}`, {
      cause: result.error,
    });
  }
  return result.data;
}

/** Schema for a whole number written in decimal, within [min, max]. */
export function integerText(min: number, max: number): z.ZodType<number> {
  return z
    .string()
    .regex(/^[+]?\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

/** Schema for a decimal number within (0, max]. */
export function positiveNumberText(max: number): z.ZodType<number> {
  return z
    .string()
    .regex(/^[+]?(\d+(\.\d*)?|\.\d+)$/)
    .transform(Number)
    .pipe(z.number().positive().max(max));
}

/** Schema for `true` or `false` (any case); `1` and `0` are accepted too. */
export const booleanText: z.ZodType<boolean> = z
  .string()
  .transform((text) => text.toLowerCase())
  .pipe(z.enum(['true', 'false', '1', '0']))
  .transform((text) => text === 'true' || text === '1');

/** Schema for a comma-separated list; blank entries are dropped. */
export const listText: z.ZodType<string[]> = z.string().transform((text) =>
  text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== ''),
);

const urlText = z
  .string()
  .refine((text) => URL.canParse(text))
  .transform((text) => new URL(text))
  .refine((url) => url.protocol === 'https:' || url.protocol === 'http:')
  .refine((url) => url.username === '' && url.password === '' && url.search === '' && url.hash === '');

/**
 * Parses the monitor's configuration from the environment.
 * @param env - defaults to `process.env`; tests pass their own object
 */
export function readMonitorConfig(env: Env = process.env): MonitorConfig {
  const api = readEnvValue(
    env,
    'API_URL',
    urlText,
    'an http(s) URL with no credentials, query or fragment, such as https://eodatahub.org.uk',
    new URL(defaultApiUrl),
  );
  const apiUrl = api.href.replace(/\/+$/, '');

  const allowLoopback = readEnvValue(env, 'ALLOW_LOOPBACK', booleanText, '"true" or "false"', false);

  const apiHost = api.port === '' ? api.hostname : `${api.hostname}:${api.port}`;
  const hostEntries = readEnvValue(
    env,
    'ALLOWED_HOSTS',
    listText,
    'comma-separated host patterns such as eodatahub.org.uk,*.eodatahub-workspaces.org.uk,127.0.0.1:8080',
    [apiHost, workspaceHostPattern],
  );
  const allowedHosts = parseHostPatterns(
    hostEntries,
    (entry) =>
      new ConfigurationError(
        `invalid ALLOWED_HOSTS entry ${describeValue(entry)}: expected a host name, *.domain (subdomains only), an IP address, each optionally with :port`,
      ),
  );
  try {
    assertUrlAllowed(api, { allowedHosts, allowLoopback });
  } catch (error) {
    throw new ConfigurationError(
      `API_URL ${describeValue(apiUrl)} is not reachable under ALLOWED_HOSTS and ALLOW_LOOPBACK: ${(error as Error).message}`,
      { cause: error },
    );
  }

  const tokenSecretName = readEnvValue(
    env,
    'TOKEN_SECRET_NAME',
    z.string().regex(/^[A-Za-z0-9/_+=.@:-]{1,2048}$/),
    'a Secrets Manager secret name or ARN',
    null as string | null,
  );

  const pollInitialSeconds = readEnvValue(
    env,
    'POLL_INITIAL_SECONDS',
    integerText(1, 86_400),
    'a whole number of seconds from 1 to 86400',
    15,
  );
  const pollMaxSeconds = readEnvValue(
    env,
    'POLL_MAX_SECONDS',
    integerText(1, 86_400),
    'a whole number of seconds from 1 to 86400',
    // 15 minutes: each check costs three state transitions and an invocation, and the age cap
    // (10 % of the job's age) still keeps short jobs' waits short.
    900,
  );
  if (pollInitialSeconds > pollMaxSeconds) {
    throw new ConfigurationError(
      `invalid POLL_INITIAL_SECONDS "${pollInitialSeconds}": expected at most POLL_MAX_SECONDS (${pollMaxSeconds})`,
    );
  }

  const defaultOptions: MonitorOptions = {
    pollInitialSeconds,
    pollMaxSeconds,
    maxJobAgeHours: readEnvValue(
      env,
      'MAX_JOB_AGE_HOURS',
      positiveNumberText(8_760),
      'a number of hours above 0 and at most 8760',
      // 45 days: EODH puts no bound on job length, and a 30-day job must reach its outcome.
      1_080,
    ),
    logWaitSeconds: readEnvValue(
      env,
      'LOG_WAIT_SECONDS',
      integerText(0, 3_600),
      'a whole number of seconds from 0 to 3600',
      60,
    ),
    transientErrorBudget: readEnvValue(
      env,
      'TRANSIENT_ERROR_BUDGET',
      integerText(1, 10_000),
      'a whole number of consecutive errors from 1 to 10000',
      40,
    ),
    authErrorBudget: readEnvValue(
      env,
      'AUTH_ERROR_BUDGET',
      integerText(1, 10_000),
      'a whole number of consecutive errors from 1 to 10000',
      5,
    ),
    transientErrorBudgetSeconds: readEnvValue(
      env,
      'TRANSIENT_ERROR_BUDGET_SECONDS',
      integerText(0, 2_592_000),
      'a whole number of seconds from 0 to 2592000',
      defaultBudgetSeconds.transient,
    ),
    authErrorBudgetSeconds: readEnvValue(
      env,
      'AUTH_ERROR_BUDGET_SECONDS',
      integerText(0, 2_592_000),
      'a whole number of seconds from 0 to 2592000',
      defaultBudgetSeconds.auth,
    ),
    checksPerExecution: readEnvValue(
      env,
      'CHECKS_PER_EXECUTION',
      integerText(1, 2_000),
      'a whole number of checks from 1 to 2000',
      defaultChecksPerExecution,
    ),
    stuckAfterHours: readEnvValue(
      env,
      'STUCK_AFTER_HOURS',
      positiveNumberText(8_760),
      'a number of hours above 0 and at most 8760',
      defaultStuckAfterHours,
    ),
    dismissOnTimeout: readEnvValue(env, 'DISMISS_ON_TIMEOUT', booleanText, '"true" or "false"', false),
  };

  const httpTimeoutMs = readEnvValue(
    env,
    'HTTP_TIMEOUT_MS',
    integerText(100, 900_000),
    'a whole number of milliseconds from 100 to 900000',
    20_000,
  );

  return { apiUrl, allowedHosts, tokenSecretName, allowLoopback, httpTimeoutMs, defaultOptions };
}
