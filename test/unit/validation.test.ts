import { describe, expect, it } from 'vitest';
import { InvalidInputError, UrlNotAllowedError } from '../../lambdas/core/errors';
import type { CheckResult, MonitorOptions } from '../../lambdas/core/state';
import {
  assertUrlAllowed,
  buildStatusUrl,
  describeValue,
  isHostAllowed,
  parseHostPattern,
  parseHostPatterns,
  validateCarry,
  validateJobId,
  validateOptions,
  validateStatusUrl,
  validateWorkspace,
} from '../../lambdas/core/validation';

const jobId = '3f9c2e1a-7b44-11f1-9a3e-0242ac120002';
const api = 'https://eodatahub.org.uk';
const statusUrl = `${api}/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/${jobId}`;

function patterns(...entries: string[]) {
  return parseHostPatterns(entries, (entry) => new Error(`bad pattern ${entry}`));
}

const rules = {
  allowedHosts: patterns('eodatahub.org.uk', '*.eodatahub-workspaces.org.uk'),
  allowLoopback: false,
};

const defaults: MonitorOptions = {
  pollInitialSeconds: 15,
  pollMaxSeconds: 300,
  maxJobAgeHours: 336,
  transientErrorBudget: 40,
  authErrorBudget: 5,
  logWaitSeconds: 60,
};

describe('describeValue', () => {
  it('quotes strings and escapes control characters', () => {
    expect(describeValue('a\nb\u0000c\u007f')).toBe('"a\\nb\\u0000c\\u007f"');
  });

  it('cuts long values to 100 characters', () => {
    const described = describeValue('x'.repeat(1_000));

    expect(described).toHaveLength(100);
    expect(described.endsWith('...')).toBe(true);
  });

  it('shows non-string values as JSON', () => {
    expect(describeValue(42)).toBe('42');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue({ a: 1 })).toBe('{"a":1}');
  });

  it('survives values JSON cannot show', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;

    expect(describeValue(cyclic)).toBe('[object Object]');
    expect(describeValue(10n)).toBe('[object BigInt]');
  });
});

describe('validateJobId', () => {
  it.each([jobId, 'job_1', 'a', 'A.b-c_d', 'x'.repeat(128)])('accepts %s', (value) => {
    expect(validateJobId(value)).toBe(value);
  });

  it.each([
    '',
    '.',
    '..',
    'a..b',
    '.hidden',
    '-flag',
    'a/b',
    'a%2fb',
    'a b',
    ' a',
    'a\n',
    'a\u0000',
    'é',
    'x'.repeat(129),
    42,
    null,
    undefined,
  ])('rejects %j', (value) => {
    expect(() => validateJobId(value)).toThrow(InvalidInputError);
  });

  it('names the field, the value and the expected form', () => {
    expect(() => validateJobId('a/b')).toThrow(
      'invalid jobId "a/b": expected a job ID of 1-128 letters, digits, "-", "_" or "."',
    );
  });
});

describe('validateWorkspace', () => {
  it.each(['demo-ws', 'a', '9lives', 'x'.repeat(63)])('accepts %s', (value) => {
    expect(validateWorkspace(value)).toBe(value);
  });

  it.each(['', 'Demo', '-ws', 'demo_ws', 'demo.ws', 'demo ws', 'x'.repeat(64), 7])('rejects %j', (value) => {
    expect(() => validateWorkspace(value)).toThrow(/^invalid workspace .*: expected a workspace name/);
  });
});

describe('parseHostPattern', () => {
  it('reads names, wildcards, ports and IP literals', () => {
    expect(parseHostPattern('EODataHub.org.uk')).toMatchObject({
      host: 'eodatahub.org.uk',
      wildcard: false,
      port: null,
    });
    expect(parseHostPattern('*.eodatahub-workspaces.org.uk')).toMatchObject({
      host: 'eodatahub-workspaces.org.uk',
      wildcard: true,
      port: null,
    });
    expect(parseHostPattern('127.0.0.1:8080')).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(parseHostPattern('[::1]:8080')).toMatchObject({ host: '::1', port: 8080 });
    expect(parseHostPattern('localhost')).toMatchObject({ host: 'localhost', port: null });
  });

  it.each([
    '',
    '*',
    '*.org',
    'a..b',
    'host:0',
    'host:70000',
    'ho st',
    'https://host',
    '*.1.2.3.4',
    '[zz]:1',
    '-a.org',
  ])('rejects %j', (entry) => {
    expect(parseHostPattern(entry)).toBeNull();
  });
});

describe('isHostAllowed', () => {
  const allowed = patterns('eodatahub.org.uk', '*.eodatahub-workspaces.org.uk', '127.0.0.1:8080');

  it.each([
    ['https://eodatahub.org.uk/api', true],
    ['https://EODATAHUB.org.uk./api', true],
    ['https://eodatahub.org.uk:443/api', true],
    ['https://eodatahub.org.uk:8443/api', false],
    ['https://demo-ws.eodatahub-workspaces.org.uk/files', true],
    ['https://demo-ws.staging.eodatahub-workspaces.org.uk/files', true],
    ['https://eodatahub-workspaces.org.uk/files', false],
    ['https://evil-eodatahub-workspaces.org.uk/files', false],
    ['https://eodatahub.org.uk.evil.example/api', false],
    ['http://127.0.0.1:8080/jobs', true],
    ['http://127.0.0.1/jobs', false],
    ['http://127.0.0.1:8081/jobs', false],
  ])('%s is allowed: %s', (url, expected) => {
    expect(isHostAllowed(new URL(url), allowed)).toBe(expected);
  });
});

describe('assertUrlAllowed', () => {
  it('accepts an https URL on an allowed host', () => {
    expect(() => assertUrlAllowed(new URL(statusUrl), rules)).not.toThrow();
  });

  it('rejects http without allowLoopback', () => {
    expect(() => assertUrlAllowed(new URL('http://eodatahub.org.uk/'), rules)).toThrow('URL scheme http:');
  });

  it('rejects http to a non-loopback host even with allowLoopback', () => {
    expect(() =>
      assertUrlAllowed(new URL('http://eodatahub.org.uk/'), { ...rules, allowLoopback: true }),
    ).toThrow(UrlNotAllowedError);
  });

  it('names the host and the allowed hosts', () => {
    expect(() => assertUrlAllowed(new URL('https://example.org/jobs/1'), rules)).toThrow(
      'host example.org is not allowed: allowed hosts are eodatahub.org.uk, *.eodatahub-workspaces.org.uk',
    );
  });

  it('rejects a private address literal even when listed', () => {
    const listed = { allowedHosts: patterns('10.0.0.8', '169.254.169.254'), allowLoopback: true };

    expect(() => assertUrlAllowed(new URL('https://10.0.0.8/'), listed)).toThrow(
      'address 10.0.0.8 is private',
    );
    expect(() => assertUrlAllowed(new URL('https://169.254.169.254/'), listed)).toThrow('is link local');
  });

  it('accepts a loopback literal over http only with allowLoopback', () => {
    const local = { allowedHosts: patterns('127.0.0.1:8080', '[::1]:8080'), allowLoopback: true };

    expect(() => assertUrlAllowed(new URL('http://127.0.0.1:8080/'), local)).not.toThrow();
    expect(() => assertUrlAllowed(new URL('http://[::1]:8080/'), local)).not.toThrow();
    expect(() =>
      assertUrlAllowed(new URL('http://127.0.0.1:8080/'), { ...local, allowLoopback: false }),
    ).toThrow(UrlNotAllowedError);
  });
});

describe('buildStatusUrl', () => {
  it('builds the EODH job URL', () => {
    expect(buildStatusUrl(`${api}/`, 'demo-ws', jobId)).toBe(statusUrl);
  });

  it('escapes both values', () => {
    expect(buildStatusUrl(api, 'a b', 'c/d')).toBe(
      `${api}/api/catalogue/stac/catalogs/user/catalogs/a%20b/jobs/c%2Fd`,
    );
  });
});

describe('validateStatusUrl', () => {
  it('accepts the job status URL', () => {
    expect(validateStatusUrl(statusUrl, jobId, rules)).toBe(statusUrl);
  });

  it('accepts a URL with a query string', () => {
    expect(validateStatusUrl(`${statusUrl}?f=json`, jobId, rules)).toBe(`${statusUrl}?f=json`);
  });

  it.each([
    ['another job', `${api}/jobs/other-job`, 'whose path ends with /jobs/'],
    ['a trailing slash', `${statusUrl}/`, 'whose path ends with'],
    ['the results path', `${statusUrl}/results`, 'whose path ends with'],
    ['a dot-dot segment', `${api}/x/../jobs/${jobId}`, '"." or ".." path segments'],
    ['an encoded dot-dot segment', `${api}/x/%2e%2E/jobs/${jobId}`, '"." or ".." path segments'],
    ['a dot segment', `${api}/./jobs/${jobId}`, '"." or ".." path segments'],
    ['an encoded slash', `${api}/a%2Fb/jobs/${jobId}`, 'encoded slashes'],
    ['a backslash', `${api}\\jobs\\${jobId}`, 'backslashes'],
    ['a fragment', `${statusUrl}#top`, 'fragment'],
    ['an empty fragment', `${statusUrl}#`, 'fragment'],
    ['user credentials', `https://user:pw@eodatahub.org.uk/jobs/${jobId}`, 'user credentials'],
    ['http', `http://eodatahub.org.uk/jobs/${jobId}`, 'URL scheme http:'],
    ['a host not allowed', `https://example.org/jobs/${jobId}`, 'host example.org is not allowed'],
    ['a port not allowed', `https://eodatahub.org.uk:8443/jobs/${jobId}`, 'is not allowed'],
    ['a relative URL', `/jobs/${jobId}`, 'an absolute https URL'],
    ['whitespace', `${api}/jobs /${jobId}`, 'without spaces'],
    ['a control character', `${statusUrl}\n`, 'without spaces or control characters'],
  ])('rejects %s', (_case, url, message) => {
    const attempt = () => validateStatusUrl(url, jobId, rules);

    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow(message);
  });

  it('rejects values that are not strings', () => {
    expect(() => validateStatusUrl(42, jobId, rules)).toThrow('invalid statusUrl 42');
  });

  it('accepts http on loopback with allowLoopback', () => {
    const local = { allowedHosts: patterns('127.0.0.1:8080'), allowLoopback: true };
    const url = `http://127.0.0.1:8080/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/${jobId}`;

    expect(validateStatusUrl(url, jobId, local)).toBe(url);
  });
});

describe('validateOptions', () => {
  it('returns the defaults when no options are given', () => {
    expect(validateOptions(undefined, defaults)).toEqual(defaults);
    expect(validateOptions(null, defaults)).toEqual(defaults);
  });

  it('merges overrides over the defaults', () => {
    expect(validateOptions({ pollInitialSeconds: 5, maxJobAgeHours: 1.5 }, defaults)).toEqual({
      ...defaults,
      pollInitialSeconds: 5,
      maxJobAgeHours: 1.5,
    });
  });

  it('rejects unknown keys', () => {
    expect(() => validateOptions({ pollMax: 30 }, defaults)).toThrow(
      'unknown option "pollMax" in options: expected one of pollInitialSeconds, pollMaxSeconds',
    );
  });

  it.each([
    ['pollInitialSeconds', 0],
    ['pollInitialSeconds', 1.5],
    ['pollInitialSeconds', '15'],
    ['pollMaxSeconds', 86_401],
    ['maxJobAgeHours', 0],
    ['maxJobAgeHours', 9_000],
    ['transientErrorBudget', -1],
    ['authErrorBudget', 0],
    ['logWaitSeconds', 3_601],
    ['logWaitSeconds', Number.NaN],
  ])('rejects %s = %j', (key, value) => {
    const attempt = () => validateOptions({ [key]: value }, defaults);

    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow(`invalid options.${key}`);
  });

  it('rejects an initial interval above the maximum', () => {
    let caught: unknown;
    try {
      validateOptions({ pollInitialSeconds: 600 }, defaults);
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(InvalidInputError);
    expect((caught as InvalidInputError).field).toBe('options.pollInitialSeconds');
    expect((caught as Error).message).toContain('at most pollMaxSeconds (300)');
  });

  it('rejects options that are not an object', () => {
    expect(() => validateOptions([1], defaults)).toThrow('invalid options [1]');
    expect(() => validateOptions('fast', defaults)).toThrow('invalid options "fast"');
  });
});

describe('validateCarry', () => {
  const start = '2026-11-30T10:00:00.000Z';
  const carriedCheck: CheckResult = {
    status: 'running',
    rawStatus: 'running',
    progress: 23,
    message: 'execution submitted',
    processId: 'ndvi-calc',
    created: '2026-11-01T08:00:00Z',
    started: '2026-11-01T08:00:00Z',
    finished: null,
    updated: '2026-11-01T08:05:00Z',
    resultsUrl: null,
    logUrls: 0,
    checks: 500,
    consecutiveTransientErrors: 2,
    consecutiveAuthErrors: 0,
    lastError: 'HTTP 503 from eodatahub.org.uk',
    lastCheckedAt: '2026-11-29T10:00:00.000Z',
    terminalSeenAt: null,
    next: 'continue',
    giveUpReason: null,
    nextCheckSeconds: 300,
    checksThisExecution: 500,
    transientErrorsSince: '2026-11-29T09:55:00.000Z',
    authErrorsSince: null,
    lastChangeAt: '2026-11-01T08:05:00.000Z',
    warningsSent: ['stuck'],
    dismissal: null,
  };

  it('starts generation 0 at the execution start without carry', () => {
    expect(validateCarry(undefined, start)).toEqual({ monitorStartedAt: start, generation: 0, check: null });
  });

  it('keeps the carried start and generation', () => {
    expect(
      validateCarry(
        { monitorStartedAt: '2026-11-01T08:00:00Z', generation: 3, previous: { checks: 500 } },
        start,
      ),
    ).toEqual({ monitorStartedAt: '2026-11-01T08:00:00.000Z', generation: 3, check: null });
  });

  it('restores the carried check', () => {
    const carried = validateCarry(
      { monitorStartedAt: '2026-11-01T08:00:00Z', generation: 1, check: carriedCheck },
      start,
    );

    expect(carried.check).toEqual(carriedCheck);
  });

  it('drops a continuation nested in the carried check', () => {
    const carried = validateCarry(
      {
        monitorStartedAt: '2026-11-01T08:00:00Z',
        generation: 1,
        check: { ...carriedCheck, continuation: { name: 'job--g9', input: {} } },
      },
      start,
    );

    expect(carried.check).not.toHaveProperty('continuation');
  });

  it.each([
    [{ monitorStartedAt: 'yesterday', generation: 1 }, 'carry.monitorStartedAt'],
    [{ monitorStartedAt: '2026-12-01T00:00:00Z', generation: 1 }, 'carry.monitorStartedAt'],
    [{ generation: 1 }, 'carry.monitorStartedAt'],
    [{ monitorStartedAt: '2026-11-01T08:00:00Z', generation: -1 }, 'carry.generation'],
    [{ monitorStartedAt: '2026-11-01T08:00:00Z', generation: 1.5 }, 'carry.generation'],
    [{ monitorStartedAt: '2026-11-01T08:00:00Z' }, 'carry.generation'],
    [{ monitorStartedAt: '2026-11-01T08:00:00Z', generation: 1, check: { checks: 3 } }, 'carry.check.status'],
    [
      { monitorStartedAt: '2026-11-01T08:00:00Z', generation: 1, check: { ...carriedCheck, checks: -1 } },
      'carry.check.checks',
    ],
    [
      { monitorStartedAt: '2026-11-01T08:00:00Z', generation: 1, check: { ...carriedCheck, next: 'wait' } },
      'carry.check.next',
    ],
    ['again', 'carry'],
  ])('rejects %j', (carry, field) => {
    let caught: unknown;
    try {
      validateCarry(carry, start);
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(InvalidInputError);
    expect((caught as InvalidInputError).field).toBe(field);
  });
});
