import { BlockList, isIP } from 'node:net';
import { parseCheckResult } from './check-result';
import { InvalidInputError, UrlNotAllowedError } from './errors';
import { type CheckResult, type MonitorOptions, monitorOptionsSchema } from './state';

/**
 * Rules for job IDs, workspace names, host patterns, URLs and IP addresses. Plain functions:
 * the input validator, the configuration reader and the guarded fetch all apply the same rules.
 */

const maxShownValueLength = 100;

/**
 * Formats a rejected value for an error message: strings are quoted with control characters
 * escaped, and everything is cut to 100 characters so a huge or binary input cannot flood logs.
 */
export function describeValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') {
    text = JSON.stringify(value);
  } else if (value === undefined) {
    text = 'undefined';
  } else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  // JSON.stringify leaves U+007F-U+009F and the line separators as they are.
  text = text.replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return text.length > maxShownValueLength ? `${text.slice(0, maxShownValueLength - 3)}...` : text;
}

function invalid(field: string, value: unknown, expected: string): InvalidInputError {
  return new InvalidInputError(field, `invalid ${field} ${describeValue(value)}: expected ${expected}`);
}

// Stricter than "not . or ..": the archive key prefix also rejects a leading dot or dash and
// any "..", so a job ID accepted here is always usable as an archive path segment.
const jobIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Validates a job ID: 1-128 letters, digits, `-`, `_` or `.`, starting with a letter or digit. */
export function validateJobId(value: unknown, field = 'jobId'): string {
  if (typeof value !== 'string' || !jobIdPattern.test(value) || value.includes('..')) {
    throw invalid(
      field,
      value,
      'a job ID of 1-128 letters, digits, "-", "_" or "." that starts with a letter or digit and contains no ".." (EODH job IDs are UUIDs)',
    );
  }
  return value;
}

const workspacePattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** Validates a workspace name, a DNS label because it becomes `<workspace>.eodatahub-workspaces.org.uk`. */
export function validateWorkspace(value: unknown, field = 'workspace'): string {
  if (typeof value !== 'string' || !workspacePattern.test(value)) {
    throw invalid(
      field,
      value,
      'a workspace name of 1-63 lowercase letters, digits or "-" that starts with a letter or digit',
    );
  }
  return value;
}

/** One entry of the allowed-hosts list. */
export interface HostPattern {
  /** Lowercase host name or IP literal (IPv6 without brackets), without a leading `*.`. */
  host: string;
  /** True for `*.example.org`, which matches subdomains of any depth but not `example.org`. */
  wildcard: boolean;
  /** Port from `host:port`, or null to match only the scheme's default port. */
  port: number | null;
  /** The entry as written, for messages. */
  text: string;
}

const hostLabelPattern = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * Parses an allowed-host entry: `example.org`, `*.example.org`, `127.0.0.1:8080` or `[::1]:8080`.
 * Returns null when the entry is not one of these forms.
 */
export function parseHostPattern(entry: string): HostPattern | null {
  const text = entry.trim().toLowerCase();
  let rest = text;
  let port: number | null = null;

  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(rest);
  if (bracketed?.[1] !== undefined) {
    if (isIP(bracketed[1]) !== 6) return null;
    port = bracketed[2] === undefined ? null : Number(bracketed[2]);
    rest = bracketed[1];
    if (port !== null && (port < 1 || port > 65_535)) return null;
    return { host: rest, wildcard: false, port, text };
  }

  const withPort = /^(.*):(\d{1,5})$/.exec(rest);
  if (withPort?.[1] !== undefined && withPort[2] !== undefined) {
    rest = withPort[1];
    port = Number(withPort[2]);
    if (port < 1 || port > 65_535) return null;
  }

  const wildcard = rest.startsWith('*.');
  if (wildcard) rest = rest.slice(2);
  rest = rest.replace(/\.$/, '');
  if (isIP(rest) === 4) {
    return wildcard ? null : { host: rest, wildcard, port, text };
  }
  const labels = rest.split('.');
  if (rest.length > 253 || !labels.every((label) => hostLabelPattern.test(label))) return null;
  // A bare `*.org` would allow a whole top-level domain.
  if (wildcard && labels.length < 2) return null;
  return { host: rest, wildcard, port, text };
}

/**
 * Parses a list of allowed-host entries and throws naming the first invalid one.
 * @param onInvalid - builds the error for an invalid entry, so configuration and input report it their own way
 */
export function parseHostPatterns(
  entries: readonly string[],
  onInvalid: (entry: string) => Error,
): HostPattern[] {
  return entries.map((entry) => {
    const pattern = parseHostPattern(entry);
    if (pattern === null) throw onInvalid(entry);
    return pattern;
  });
}

const defaultPorts: Record<string, number> = { 'https:': 443, 'http:': 80 };

/** Host name of a URL as the guards compare it: lowercase, IPv6 without brackets, no trailing dot. */
export function hostnameOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/** `host` or `host:port` of a URL as written in messages, the port shown only when not the default. */
export function hostLabelOf(url: URL): string {
  return url.port === '' ? url.hostname : `${url.hostname}:${url.port}`;
}

/**
 * Checks a URL's host and port against the allowed-host patterns. A pattern without a port
 * matches only the default port of the URL's scheme (443 or 80).
 */
export function isHostAllowed(url: URL, patterns: readonly HostPattern[]): boolean {
  const hostname = hostnameOf(url);
  const port = url.port === '' ? defaultPorts[url.protocol] : Number(url.port);
  return patterns.some((pattern) => {
    const portMatches = pattern.port === null ? port === defaultPorts[url.protocol] : port === pattern.port;
    if (!portMatches) return false;
    return pattern.wildcard ? hostname.endsWith(`.${pattern.host}`) : hostname === pattern.host;
  });
}

export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'unspecified'
  | 'ipv4_mapped'
  | 'ipv4_embedded'
  | 'multicast'
  | 'reserved';

// Checked in order, so the exact `::` and `::1` win over the IPv4-compatible `::/96`.
const addressRanges: readonly [AddressClass, string, number, 'ipv4' | 'ipv6'][] = [
  ['unspecified', '::', 128, 'ipv6'],
  ['loopback', '::1', 128, 'ipv6'],
  ['ipv4_mapped', '::ffff:0:0', 96, 'ipv6'],
  ['ipv4_embedded', '::', 96, 'ipv6'], // IPv4-compatible form, deprecated
  ['ipv4_embedded', '64:ff9b::', 96, 'ipv6'], // NAT64
  ['ipv4_embedded', '64:ff9b:1::', 48, 'ipv6'], // local-use NAT64
  ['ipv4_embedded', '2002::', 16, 'ipv6'], // 6to4
  ['ipv4_embedded', '2001::', 32, 'ipv6'], // Teredo
  ['unspecified', '0.0.0.0', 8, 'ipv4'],
  ['private', '10.0.0.0', 8, 'ipv4'],
  ['private', '100.64.0.0', 10, 'ipv4'], // carrier-grade NAT
  ['loopback', '127.0.0.0', 8, 'ipv4'],
  ['link_local', '169.254.0.0', 16, 'ipv4'], // includes the 169.254.169.254 metadata address
  ['private', '172.16.0.0', 12, 'ipv4'],
  ['reserved', '192.0.0.0', 24, 'ipv4'],
  ['reserved', '192.0.2.0', 24, 'ipv4'],
  ['private', '192.168.0.0', 16, 'ipv4'],
  ['reserved', '198.18.0.0', 15, 'ipv4'], // benchmarking
  ['reserved', '198.51.100.0', 24, 'ipv4'],
  ['reserved', '203.0.113.0', 24, 'ipv4'],
  ['multicast', '224.0.0.0', 4, 'ipv4'],
  ['reserved', '240.0.0.0', 4, 'ipv4'], // includes 255.255.255.255
  ['private', 'fc00::', 7, 'ipv6'], // unique local
  ['link_local', 'fe80::', 10, 'ipv6'],
  ['private', 'fec0::', 10, 'ipv6'], // deprecated site-local
  ['multicast', 'ff00::', 8, 'ipv6'],
  ['reserved', '2001:db8::', 32, 'ipv6'], // documentation
  ['reserved', '100::', 64, 'ipv6'], // discard-only
];

const classifiers = addressRanges.map(([addressClass, network, prefix, family]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { addressClass, family, list };
});

/**
 * Classifies an IP address literal. Only `public` addresses may be fetched, plus `loopback`
 * for the local sandbox. IPv4-mapped and IPv4-embedding IPv6 forms get their own classes so
 * `::ffff:169.254.169.254` cannot pass as an IPv6 address. Returns null for a non-IP string.
 */
export function classifyIpAddress(address: string): AddressClass | null {
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return null;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const { addressClass, family: rangeFamily, list } of classifiers) {
    // BlockList matches IPv4 addresses against IPv6 subnets through their mapped form (and the
    // reverse), so each address is checked against ranges of its own family only.
    if (rangeFamily === type && list.check(bare, type)) return addressClass;
  }
  return 'public';
}

/** Checks whether the fetch rules permit connecting to an address. */
export function isAddressAllowed(address: string, allowLoopback: boolean): boolean {
  const addressClass = classifyIpAddress(address);
  return addressClass === 'public' || (allowLoopback && addressClass === 'loopback');
}

/** Checks whether a host name is a loopback literal or `localhost`, the only hosts http:// may reach. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || classifyIpAddress(hostname) === 'loopback';
}

export interface UrlRules {
  allowedHosts: readonly HostPattern[];
  /** Permits http:// and loopback addresses; only the local sandbox sets it. */
  allowLoopback: boolean;
}

/**
 * Checks a URL against the fetch rules before anything is sent: https (http only to a
 * loopback host when `allowLoopback`), no userinfo, host and port on the allowed list, and no
 * IP literal outside the public range. Throws `UrlNotAllowedError` naming the host.
 */
export function assertUrlAllowed(url: URL, rules: UrlRules): void {
  const host = hostLabelOf(url);
  const hostname = hostnameOf(url);
  const allowedList = rules.allowedHosts.map((pattern) => pattern.text).join(', ') || '(none)';

  const httpAllowed = url.protocol === 'http:' && rules.allowLoopback && isLoopbackHost(hostname);
  if (url.protocol !== 'https:' && !httpAllowed) {
    throw new UrlNotAllowedError(
      host,
      `URL scheme ${url.protocol} on ${host} is not allowed: use https (http only to a loopback host in local runs)`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new UrlNotAllowedError(host, `URL on ${host} contains user credentials, which are never sent`);
  }
  if (!isHostAllowed(url, rules.allowedHosts)) {
    throw new UrlNotAllowedError(
      host,
      `host ${host} is not allowed: allowed hosts are ${allowedList} (add it to allowedHosts: -c allowedHosts=... when deploying, --allowed-host for eodh-monitor run)`,
    );
  }
  const addressClass = classifyIpAddress(hostname);
  if (addressClass !== null && !isAddressAllowed(hostname, rules.allowLoopback)) {
    throw new UrlNotAllowedError(
      host,
      `address ${hostname} is ${addressClass.replace('_', ' ')} and is never fetched`,
    );
  }
}

const maxUrlLength = 2_048;

/** Checks whether text contains a space, a C0 or C1 control character, or DEL. */
export function containsSpaceOrControl(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code <= 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

/** Builds the EODH status URL of a job, escaping both values. */
export function buildStatusUrl(apiUrl: string, workspace: string, jobId: string): string {
  const base = apiUrl.replace(/\/+$/, '');
  return `${base}/api/catalogue/stac/catalogs/user/catalogs/${encodeURIComponent(workspace)}/jobs/${encodeURIComponent(jobId)}`;
}

/**
 * Validates a caller-supplied status URL. Besides the fetch rules it checks the raw text,
 * because URL parsing silently resolves `..` segments (also written `%2e%2e`) and turns
 * backslashes into slashes. A URL is accepted only if its text and its parsed form agree.
 */
export function validateStatusUrl(
  value: unknown,
  jobId: string,
  rules: UrlRules,
  field = 'statusUrl',
): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > maxUrlLength) {
    throw invalid(field, value, `an absolute https URL of at most ${maxUrlLength} characters`);
  }
  if (containsSpaceOrControl(value)) {
    throw invalid(field, value, 'a URL without spaces or control characters');
  }
  if (value.includes('\\')) {
    throw invalid(field, value, 'a URL without backslashes');
  }
  if (/%(2f|5c)/i.test(value)) {
    throw invalid(field, value, 'a URL without encoded slashes or backslashes (%2F, %5C)');
  }
  if (value.includes('#')) {
    throw invalid(field, value, 'a URL without a fragment (#...)');
  }

  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(field, value, 'an absolute https URL');
  }
  const rawPath = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*(\/[^?]*)?/i.exec(value)?.[1] ?? '';
  if (rawPath.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment))) {
    throw invalid(field, value, 'a URL without "." or ".." path segments');
  }

  try {
    assertUrlAllowed(url, rules);
  } catch (error) {
    if (!(error instanceof UrlNotAllowedError)) throw error;
    throw new InvalidInputError(field, `invalid ${field} ${describeValue(value)}: ${error.message}`, {
      cause: error,
    });
  }

  const expectedEnd = `/jobs/${encodeURIComponent(jobId)}`;
  if (!url.pathname.endsWith(expectedEnd)) {
    throw invalid(field, value, `the status URL of job ${jobId}, whose path ends with ${expectedEnd}`);
  }
  return url.href;
}

type OptionName = keyof MonitorOptions;

/** The accepted form of each option, in words, for error messages. */
const optionForms: Record<OptionName, string> = {
  pollInitialSeconds: 'a whole number of seconds from 1 to 86400',
  pollMaxSeconds: 'a whole number of seconds from 1 to 86400',
  maxJobAgeHours: 'a number of hours above 0 and at most 8760',
  transientErrorBudget: 'a whole number of consecutive errors from 1 to 10000',
  authErrorBudget: 'a whole number of consecutive errors from 1 to 10000',
  logWaitSeconds: 'a whole number of seconds from 0 to 3600',
  transientErrorBudgetSeconds: 'a whole number of seconds from 0 to 2592000 (30 days)',
  authErrorBudgetSeconds: 'a whole number of seconds from 0 to 2592000 (30 days)',
  checksPerExecution: 'a whole number of checks from 1 to 2000',
  stuckAfterHours: 'a number of hours above 0 and at most 8760',
  dismissOnTimeout: 'true or false',
};

/**
 * Validates per-job option overrides and merges them over the configured defaults. Unknown
 * keys are rejected, so a misspelt option fails instead of being silently ignored.
 */
export function validateOptions(value: unknown, defaults: MonitorOptions, field = 'options'): MonitorOptions {
  if (value === undefined || value === null) return { ...defaults };
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(field, value, `an object with any of ${Object.keys(optionForms).join(', ')}`);
  }

  const merged: MonitorOptions = { ...defaults };
  for (const [key, optionValue] of Object.entries(value)) {
    if (!Object.hasOwn(optionForms, key)) {
      throw new InvalidInputError(
        `${field}.${key}`,
        `unknown option ${describeValue(key)} in ${field}: expected one of ${Object.keys(optionForms).join(', ')}`,
      );
    }
    const name = key as OptionName;
    const parsed = monitorOptionsSchema.shape[name].safeParse(optionValue);
    if (!parsed.success) {
      throw invalid(`${field}.${name}`, optionValue, optionForms[name]);
    }
    (merged as Record<OptionName, unknown>)[name] = parsed.data;
  }

  if (merged.pollInitialSeconds > merged.pollMaxSeconds) {
    throw invalid(
      `${field}.pollInitialSeconds`,
      merged.pollInitialSeconds,
      `at most pollMaxSeconds (${merged.pollMaxSeconds}); raise ${field}.pollMaxSeconds or lower ${field}.pollInitialSeconds`,
    );
  }
  return merged;
}

/** Continuation values carried from the previous execution of the same job. */
export interface CarriedState {
  monitorStartedAt: string;
  generation: number;
  /** The last check of the previous execution, with `next: 'continue'`, or null. */
  check: CheckResult | null;
}

/**
 * Validates the `carry` object that `Continue in new execution` passes on: the monitor's start,
 * the generation, and the last check, whose counters, failure runs and sent warnings carry on.
 * Other keys are ignored.
 * @param executionStartTime - ISO start time of this execution; a carried start cannot be later
 */
export function validateCarry(value: unknown, executionStartTime: string, field = 'carry'): CarriedState {
  if (value === undefined || value === null) {
    return { monitorStartedAt: executionStartTime, generation: 0, check: null };
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(
      field,
      value,
      'an object with monitorStartedAt and generation, as set by a continued execution',
    );
  }
  const { monitorStartedAt, generation, check } = value as Record<string, unknown>;

  const startedAt = typeof monitorStartedAt === 'string' ? Date.parse(monitorStartedAt) : Number.NaN;
  if (Number.isNaN(startedAt) || startedAt > Date.parse(executionStartTime)) {
    throw invalid(
      `${field}.monitorStartedAt`,
      monitorStartedAt,
      'an ISO 8601 time no later than this execution start; remove carry to start a fresh monitor',
    );
  }
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation) || generation < 0) {
    throw invalid(`${field}.generation`, generation, 'a whole number of at least 0');
  }

  let carriedCheck: CheckResult | null = null;
  if (check !== undefined && check !== null) {
    const parsed = parseCheckResult(check, `${field}.check`);
    if (!parsed.ok) {
      throw new InvalidInputError(
        parsed.field,
        `invalid ${parsed.field} in ${describeValue(check)}: ${parsed.message}; remove carry to start a fresh monitor`,
      );
    }
    if (parsed.check.next !== 'continue') {
      throw invalid(
        `${field}.check.next`,
        parsed.check.next,
        '"continue", as Continue in new execution sets it',
      );
    }
    carriedCheck = parsed.check;
  }
  return { monitorStartedAt: new Date(startedAt).toISOString(), generation, check: carriedCheck };
}
