import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../lambdas/core/errors';
import {
  batchIndices,
  maxSummaryTextChars,
  parseArchivePlan,
  readStatusLinks,
  summaryFailure,
  validateArchiveJob,
} from '../../lambdas/core/plan';
import statusFailedBare from '../fixtures/eodh/status-failed-bare.json';
import statusFailedException from '../fixtures/eodh/status-failed-exception.json';
import statusSuccessful from '../fixtures/eodh/status-successful.json';
import statusLogsPending from '../fixtures/eodh/status-successful-logs-pending.json';

const jobUrl =
  'https://eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/3f9c2e1a-7b44-11f1-9a3e-0242ac120002';

describe('readStatusLinks', () => {
  it('finds results and logs of a successful job', () => {
    expect(readStatusLinks(statusSuccessful, jobUrl)).toEqual({
      resultsUrl: `${jobUrl}/results`,
      logUrls: [`${jobUrl}/ndvi.log`, `${jobUrl}/node_stage_out.log`],
    });
  });

  it('finds no logs while they are pending', () => {
    expect(readStatusLinks(statusLogsPending, jobUrl)).toEqual({
      resultsUrl: `${jobUrl}/results`,
      logUrls: [],
    });
  });

  it('finds nothing on a bare failed job', () => {
    expect(readStatusLinks(statusFailedBare, jobUrl)).toEqual({ resultsUrl: null, logUrls: [] });
  });

  it('finds the log of a failed job', () => {
    expect(readStatusLinks(statusFailedException, jobUrl)).toEqual({
      resultsUrl: null,
      logUrls: [`${jobUrl}/ndvi.log`],
    });
  });

  it('accepts every results relation form', () => {
    for (const rel of [
      'results',
      'http://www.opengis.net/def/rel/ogc/1.0/results',
      'https://www.opengis.net/def/rel/ogc/1.0/results',
      'HTTP://WWW.OPENGIS.NET/def/rel/ogc/1.0/results',
    ]) {
      const links = readStatusLinks({ links: [{ rel, href: './results' }] }, `${jobUrl}/`);

      expect(links.resultsUrl, rel).toBe(`${jobUrl}/results`);
    }
  });

  it('selects text/plain related links once', () => {
    const status = {
      links: [
        { rel: 'related', type: 'text/plain; charset=utf-8', href: 'a.log' },
        { rel: 'related', type: 'TEXT/PLAIN', href: 'b.log' },
        { rel: 'related', type: 'text/plain', href: 'a.log' },
        { rel: 'related', type: 'application/json', href: 'usage.json' },
        { rel: 'related', href: 'untyped.log' },
        { rel: 'alternate', type: 'text/plain', href: 'c.log' },
        { rel: 'related', type: 'text/plain' },
        'not a link',
      ],
    };

    expect(readStatusLinks(status, 'https://h.example.org/jobs/1').logUrls).toEqual([
      'https://h.example.org/jobs/a.log',
      'https://h.example.org/jobs/b.log',
    ]);
  });
});

describe('summaryFailure', () => {
  it('keeps short text as it is', () => {
    expect(summaryFailure('results/a.tif', 'https://x/a.tif', 'HTTP 404')).toEqual({
      key: 'results/a.tif',
      url: 'https://x/a.tif',
      reason: 'HTTP 404',
    });
  });

  it('cuts long URLs and reasons', () => {
    const failure = summaryFailure('results/a.tif', `https://x/${'a'.repeat(500)}`, 'b'.repeat(301));

    expect(failure.url).toHaveLength(maxSummaryTextChars);
    expect(failure.url.endsWith('...')).toBe(true);
    expect(failure.reason).toBe(`${'b'.repeat(297)}...`);
    expect(failure.key).toBe('results/a.tif');
  });
});

describe('batchIndices', () => {
  it('covers every file', () => {
    expect(batchIndices(0, 25)).toEqual([]);
    expect(batchIndices(1, 25)).toEqual([0]);
    expect(batchIndices(25, 25)).toEqual([0]);
    expect(batchIndices(26, 25)).toEqual([0, 1]);
    expect(batchIndices(101, 25)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('parseArchivePlan', () => {
  it('parses a valid plan', () => {
    const plan = {
      jobId: 'job-1',
      workspace: 'demo-ws',
      createdAt: '2026-12-01T00:00:00.000Z',
      batchSize: 25,
      entries: [
        {
          key: 'logs/a.log',
          url: 'https://h.example.org/a.log',
          kind: 'log',
          batch: 0,
          contentType: 'text/plain',
        },
      ],
    };

    expect(parseArchivePlan(JSON.stringify(plan))).toEqual(plan);
  });

  it('rejects an invalid plan', () => {
    expect(() => parseArchivePlan('{"jobId":"x"}')).toThrow();
    expect(() => parseArchivePlan('not json')).toThrow(SyntaxError);
  });
});

describe('validateArchiveJob', () => {
  const job = {
    jobId: '3f9c2e1a-7b44-11f1-9a3e-0242ac120002',
    workspace: 'demo-ws',
    statusUrl: jobUrl,
    generation: 0,
  };

  it('accepts a valid job', () => {
    expect(validateArchiveJob(job)).toBe(job);
  });

  it('names the invalid field', () => {
    const cases: Array<[unknown, string]> = [
      [null, 'job'],
      [{ ...job, jobId: '../x' }, 'job.jobId'],
      [{ ...job, workspace: 'Demo WS' }, 'job.workspace'],
      [{ ...job, statusUrl: 'ftp://h.example.org/x' }, 'job.statusUrl'],
      [{ ...job, statusUrl: undefined }, 'job.statusUrl'],
    ];
    for (const [value, field] of cases) {
      let caught: unknown;
      try {
        validateArchiveJob(value);
      } catch (error) {
        caught = error;
      }

      expect(caught, field).toBeInstanceOf(InvalidInputError);
      expect((caught as InvalidInputError).field).toBe(field);
    }
  });
});
