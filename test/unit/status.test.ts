import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../lambdas/core/state';
import {
  isTerminalStatus,
  normalizeStatus,
  parseLinks,
  parseProgress,
  parseStatusDocument,
  parseTimestamp,
  truncateText,
} from '../../lambdas/core/status';
import dismissed from '../fixtures/eodh/status-dismissed.json';
import failedBare from '../fixtures/eodh/status-failed-bare.json';
import failedException from '../fixtures/eodh/status-failed-exception.json';
import running from '../fixtures/eodh/status-running.json';
import successful from '../fixtures/eodh/status-successful.json';
import logsPending from '../fixtures/eodh/status-successful-logs-pending.json';

const jobId = '3f9c2e1a-7b44-11f1-9a3e-0242ac120002';
const statusUrl = `https://eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/${jobId}`;

describe('normalizeStatus', () => {
  const cases: [unknown, JobStatus][] = [
    ['successful', 'successful'],
    ['SUCCESSFUL', 'successful'],
    ['  successful\n', 'successful'],
    ['success', 'successful'],
    ['succeeded', 'successful'],
    ['completed', 'successful'],
    ['complete', 'successful'],
    ['Finished', 'successful'],
    ['failed', 'failed'],
    ['error', 'failed'],
    ['failure', 'failed'],
    ['dismissed', 'dismissed'],
    ['canceled', 'dismissed'],
    ['cancelled', 'dismissed'],
    ['accepted', 'accepted'],
    ['queued', 'accepted'],
    ['pending', 'accepted'],
    ['submitted', 'accepted'],
    ['running', 'running'],
    ['in-progress', 'running'],
    ['inprogress', 'running'],
    ['IN_PROGRESS', 'running'],
    ['started', 'running'],
    ['processing', 'running'],
    ['paused', 'paused'],
    ['exploded', 'unknown'],
    ['', 'unknown'],
    ['constructor', 'unknown'],
    ['__proto__', 'unknown'],
    [42, 'unknown'],
    [null, 'unknown'],
    [undefined, 'unknown'],
  ];

  it.each(cases)('maps %j to %s', (value, expected) => {
    expect(normalizeStatus(value)).toBe(expected);
  });
});

describe('isTerminalStatus', () => {
  it('marks successful, failed and dismissed as terminal', () => {
    expect(isTerminalStatus('successful')).toBe(true);
    expect(isTerminalStatus('failed')).toBe(true);
    expect(isTerminalStatus('dismissed')).toBe(true);
  });

  it('marks the other statuses as not terminal', () => {
    for (const status of ['accepted', 'running', 'paused', 'unknown'] as const) {
      expect(isTerminalStatus(status)).toBe(false);
    }
  });
});

describe('parseProgress', () => {
  const cases: [unknown, number | null][] = [
    [45, 45],
    [0, 0],
    [100, 100],
    [45.6, 46],
    [-5, 0],
    [250, 100],
    ['45', 45],
    [' 45 ', 45],
    ['45.4', 45],
    ['45%', 45],
    ['abc', null],
    ['', null],
    ['45abc', null],
    [Number.NaN, null],
    [Number.POSITIVE_INFINITY, null],
    ['Infinity', null],
    [null, null],
    [undefined, null],
    [true, null],
    [{}, null],
  ];

  it.each(cases)('reads %j as %j', (value, expected) => {
    expect(parseProgress(value)).toBe(expected);
  });
});

describe('parseTimestamp', () => {
  it('keeps an RFC 3339 string as sent', () => {
    expect(parseTimestamp('2026-11-30T09:12:04.311Z')).toBe('2026-11-30T09:12:04.311Z');
  });

  it('drops values that are not dates', () => {
    expect(parseTimestamp('yesterday')).toBeNull();
    expect(parseTimestamp('')).toBeNull();
    expect(parseTimestamp(1_764_493_924_311)).toBeNull();
    expect(parseTimestamp(null)).toBeNull();
    expect(parseTimestamp(`2026-11-30T09:12:04Z${' '.repeat(100)}x`)).toBeNull();
  });
});

describe('truncateText', () => {
  it('keeps short text unchanged', () => {
    expect(truncateText('short', 10)).toBe('short');
  });

  it('cuts long text to the limit with a marker', () => {
    const cut = truncateText('x'.repeat(600), 500);

    expect(cut).toHaveLength(500);
    expect(cut.endsWith('...')).toBe(true);
  });

  it('never splits a surrogate pair', () => {
    const cut = truncateText('🛰'.repeat(10), 5);

    expect(Array.from(cut)).toEqual(['🛰', '🛰', '.', '.', '.']);
  });
});

describe('parseLinks', () => {
  it('resolves relative links and skips malformed ones', () => {
    const links = parseLinks(
      [
        { rel: 'monitor', href: '/jobs/a' },
        { rel: 'related', href: 'javascript:alert(1)', type: 'text/plain' },
        { rel: 'related' },
        'not a link',
        null,
        { rel: 7, href: 'https://example.org/x' },
      ],
      statusUrl,
    );

    expect(links).toEqual([
      { rel: 'monitor', href: 'https://eodatahub.org.uk/jobs/a', type: null, title: null },
    ]);
  });

  it('returns no links for a non-array', () => {
    expect(parseLinks({ rel: 'monitor', href: statusUrl })).toEqual([]);
  });
});

describe('parseStatusDocument', () => {
  it('reads a running job', () => {
    expect(parseStatusDocument(running, statusUrl)).toEqual({
      jobId,
      status: 'running',
      rawStatus: 'running',
      progress: 23,
      message: 'execution submitted',
      processId: 'ndvi-calc',
      created: '2026-11-30T09:12:04.311Z',
      started: '2026-11-30T09:12:04.311Z',
      finished: null,
      updated: '2026-11-30T09:14:40.118Z',
      monitorUrl: statusUrl,
      resultsUrl: null,
      logUrls: [],
    });
  });

  it('reads a successful job with results and log links', () => {
    const snapshot = parseStatusDocument(successful, statusUrl);

    expect(snapshot?.status).toBe('successful');
    expect(snapshot?.progress).toBeNull();
    expect(snapshot?.finished).toBe('2026-11-30T09:31:57.640Z');
    expect(snapshot?.resultsUrl).toBe(`${statusUrl}/results`);
    expect(snapshot?.logUrls).toEqual([`${statusUrl}/ndvi.log`, `${statusUrl}/node_stage_out.log`]);
  });

  it('reads a successful job whose log links have not appeared', () => {
    const snapshot = parseStatusDocument(logsPending, statusUrl);

    expect(snapshot?.status).toBe('successful');
    expect(snapshot?.resultsUrl).toBe(`${statusUrl}/results`);
    expect(snapshot?.logUrls).toEqual([]);
  });

  it('reads a failed job with only the monitor link', () => {
    const snapshot = parseStatusDocument(failedBare, statusUrl);

    expect(snapshot?.status).toBe('failed');
    expect(snapshot?.message).toBe('ZOO-Kernel successfully run your service!');
    expect(snapshot?.resultsUrl).toBeNull();
    expect(snapshot?.logUrls).toEqual([]);
  });

  it('keeps the exception text of a failed job', () => {
    const snapshot = parseStatusDocument(failedException, statusUrl);

    expect(snapshot?.status).toBe('failed');
    expect(snapshot?.message).toContain('RuntimeError: input scene has no red band');
    expect(snapshot?.logUrls).toHaveLength(1);
  });

  it('reads a dismissed job without a process ID', () => {
    const snapshot = parseStatusDocument(dismissed, statusUrl);

    expect(snapshot?.status).toBe('dismissed');
    expect(snapshot?.processId).toBeNull();
    expect(snapshot?.monitorUrl).toBeNull();
  });

  it('falls back to id, processId and the older status link', () => {
    const snapshot = parseStatusDocument(
      {
        id: 'job-1',
        processId: 'proc-1',
        status: 'Completed',
        links: [
          { rel: 'status', href: 'https://api.example.org/jobs/job-1' },
          {
            rel: 'https://www.opengis.net/def/rel/ogc/1.0/results',
            href: 'https://api.example.org/jobs/job-1/results',
          },
        ],
      },
      'https://api.example.org/jobs/job-1',
    );

    expect(snapshot?.jobId).toBe('job-1');
    expect(snapshot?.processId).toBe('proc-1');
    expect(snapshot?.status).toBe('successful');
    expect(snapshot?.rawStatus).toBe('Completed');
    expect(snapshot?.monitorUrl).toBe('https://api.example.org/jobs/job-1');
    expect(snapshot?.resultsUrl).toBe('https://api.example.org/jobs/job-1/results');
  });

  it('accepts the short results relation', () => {
    const snapshot = parseStatusDocument({
      status: 'successful',
      links: [{ rel: 'results', href: 'https://api.example.org/r' }],
    });

    expect(snapshot?.resultsUrl).toBe('https://api.example.org/r');
  });

  it('counts only plain-text related links as logs', () => {
    const snapshot = parseStatusDocument({
      status: 'failed',
      links: [
        { rel: 'related', type: 'text/plain; charset=utf-8', href: 'https://api.example.org/a.log' },
        { rel: 'RELATED', type: 'TEXT/PLAIN', href: 'https://api.example.org/b.log' },
        { rel: 'related', type: 'application/json', href: 'https://api.example.org/c.json' },
        { rel: 'related', href: 'https://api.example.org/d.log' },
      ],
    });

    expect(snapshot?.logUrls).toEqual(['https://api.example.org/a.log', 'https://api.example.org/b.log']);
  });

  it('cuts the message to 500 characters and the raw status to 40', () => {
    const snapshot = parseStatusDocument({ status: `running${'!'.repeat(100)}`, message: 'm'.repeat(5_000) });

    expect(snapshot?.message).toHaveLength(500);
    expect(snapshot?.rawStatus).toHaveLength(40);
    expect(snapshot?.status).toBe('unknown');
  });

  it('maps missing or odd fields to null and unknown', () => {
    expect(parseStatusDocument({})).toEqual({
      jobId: null,
      status: 'unknown',
      rawStatus: null,
      progress: null,
      message: null,
      processId: null,
      created: null,
      started: null,
      finished: null,
      updated: null,
      monitorUrl: null,
      resultsUrl: null,
      logUrls: [],
    });
  });

  it('returns null for documents that are not objects', () => {
    expect(parseStatusDocument([])).toBeNull();
    expect(parseStatusDocument('running')).toBeNull();
    expect(parseStatusDocument(null)).toBeNull();
    expect(parseStatusDocument(42)).toBeNull();
  });
});
