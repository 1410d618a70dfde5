import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createGuardedFetch } from '../../lambdas/adapters/http';
import type { MonitorLogger } from '../../lambdas/adapters/powertools';
import {
  type CheckStatusDeps,
  createCheckStatusHandler,
  defaultCheckStatusDependencies,
  handler,
} from '../../lambdas/check-status';
import { readMonitorConfig } from '../../lambdas/core/config';
import { InvalidInputError, TransientHttpError, UrlNotAllowedError } from '../../lambdas/core/errors';
import type { GuardedFetch } from '../../lambdas/core/ports';
import type { CheckInput, CheckResult, JobContext } from '../../lambdas/core/state';
import dismissed from '../fixtures/eodh/status-dismissed.json';
import failedBare from '../fixtures/eodh/status-failed-bare.json';
import running from '../fixtures/eodh/status-running.json';
import successful from '../fixtures/eodh/status-successful.json';
import logsPending from '../fixtures/eodh/status-successful-logs-pending.json';
import { fixtureJob, fixtureJobId, fixtureStatusUrl, runningCheck } from './support/fixtures';

const jobId = fixtureJobId;
const statusUrl = fixtureStatusUrl;
/** Eight minutes after the fixtures' `created` time. */
const now = Date.parse('2026-11-30T09:20:04.311Z');
/** Start of a failure run that has used up the default time budget of transient errors (6 h). */
const sixHoursAgo = new Date(now - 21_600_000).toISOString();
/** The same for 401/403 responses (48 h). */
const twoDaysAgo = new Date(now - 172_800_000).toISOString();

const job: JobContext = fixtureJob();

function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

function fakeLogger() {
  return {
    debug: vi.fn(),
    info: vi.fn(),
    warn: vi.fn(),
    error: vi.fn(),
    appendKeys: vi.fn(),
    removeKeys: vi.fn(),
  } satisfies MonitorLogger;
}

function setup(respond: () => Promise<Response>, options: { now?: number; random?: number } = {}) {
  const fetch = vi.fn<GuardedFetch>(respond);
  const logger = fakeLogger();
  const metrics = { addMetric: vi.fn() };
  const deps: CheckStatusDeps = {
    fetch,
    clock: { now: () => options.now ?? now },
    random: () => options.random ?? 0,
    logger,
    metrics,
  };
  return { check: createCheckStatusHandler(deps), fetch, logger, metrics };
}

const previousCheck = runningCheck;

function input(previous: CheckResult | null = null): CheckInput {
  return { job, previous };
}

describe('check-status', () => {
  describe('good responses', () => {
    it('projects a running job and schedules the next check', async () => {
      const { check, fetch } = setup(async () => jsonResponse(running));

      const result = await check(input());

      expect(fetch).toHaveBeenCalledWith(statusUrl, { accept: 'application/json' });
      expect(result).toEqual({
        status: 'running',
        rawStatus: 'running',
        progress: 23,
        message: 'execution submitted',
        processId: 'ndvi-calc',
        created: '2026-11-30T09:12:04.311Z',
        started: '2026-11-30T09:12:04.311Z',
        finished: null,
        updated: '2026-11-30T09:14:40.118Z',
        resultsUrl: null,
        logUrls: 0,
        checks: 1,
        consecutiveTransientErrors: 0,
        consecutiveAuthErrors: 0,
        lastError: null,
        lastCheckedAt: '2026-11-30T09:20:04.311Z',
        terminalSeenAt: null,
        next: 'wait',
        giveUpReason: null,
        nextCheckSeconds: 15,
        checksThisExecution: 1,
        transientErrorsSince: null,
        authErrorsSince: null,
        lastChangeAt: '2026-11-30T09:20:04.311Z',
        warningsSent: [],
        dismissal: null,
        continuation: null,
      });
    });

    it('caps the grown wait at 10 % of age', async () => {
      const { check } = setup(async () => jsonResponse(running), { random: 0.999 });

      const result = await check(input(previousCheck({ checks: 9 })));

      expect(result.checks).toBe(10);
      // The job is 480 s old, so the cap is 48 s.
      expect(result.nextCheckSeconds).toBe(48);
    });

    it('resets the wait when progress moves', async () => {
      const { check } = setup(async () => jsonResponse(running), { random: 0.999 });

      const result = await check(input(previousCheck({ checks: 9, progress: 20 })));

      expect(result.nextCheckSeconds).toBe(15);
    });

    it('archives a successful job with log links', async () => {
      const { check } = setup(async () => jsonResponse(successful));

      const result = await check(input(previousCheck()));

      expect(result.status).toBe('successful');
      expect(result.progress).toBeNull();
      expect(result.resultsUrl).toBe(`${statusUrl}/results`);
      expect(result.logUrls).toBe(2);
      expect(result.terminalSeenAt).toBe('2026-11-30T09:20:04.311Z');
      expect(result.next).toBe('archive');
    });

    it('waits for log links after a job succeeds without them', async () => {
      const { check } = setup(async () => jsonResponse(logsPending));

      const result = await check(input(previousCheck()));

      expect(result.next).toBe('wait_for_logs');
      expect(result.nextCheckSeconds).toBe(10);
      expect(result.terminalSeenAt).toBe('2026-11-30T09:20:04.311Z');
    });

    it('shortens the last log-link wait to what remains', async () => {
      const { check } = setup(async () => jsonResponse(logsPending));
      const terminalSeenAt = new Date(now - 55_500).toISOString();

      const result = await check(input(previousCheck({ status: 'successful', terminalSeenAt })));

      expect(result.next).toBe('wait_for_logs');
      expect(result.nextCheckSeconds).toBe(5);
      expect(result.terminalSeenAt).toBe(terminalSeenAt);
    });

    it('archives without logs once the log wait is over', async () => {
      const { check } = setup(async () => jsonResponse(logsPending));
      const terminalSeenAt = new Date(now - 60_000).toISOString();

      const result = await check(input(previousCheck({ status: 'successful', terminalSeenAt })));

      expect(result.next).toBe('archive');
      expect(result.logUrls).toBe(0);
    });

    it('waits for logs of a failed job without them', async () => {
      const { check } = setup(async () => jsonResponse(failedBare));

      const result = await check(input());

      expect(result.status).toBe('failed');
      expect(result.next).toBe('wait_for_logs');
    });

    it('archives a dismissed job at once', async () => {
      const { check } = setup(async () => jsonResponse(dismissed));

      const result = await check(input(previousCheck()));

      expect(result.status).toBe('dismissed');
      expect(result.next).toBe('archive');
    });

    it('archives at once when the log wait is zero', async () => {
      const { check } = setup(async () => jsonResponse(logsPending));

      const result = await check({
        job: { ...job, options: { ...job.options, logWaitSeconds: 0 } },
        previous: null,
      });

      expect(result.next).toBe('archive');
    });

    it('resets both error counters', async () => {
      const { check } = setup(async () => jsonResponse(running));

      const result = await check(
        input(
          previousCheck({ consecutiveTransientErrors: 7, consecutiveAuthErrors: 2, lastError: 'HTTP 502' }),
        ),
      );

      expect(result.consecutiveTransientErrors).toBe(0);
      expect(result.consecutiveAuthErrors).toBe(0);
      expect(result.lastError).toBeNull();
    });

    it('cuts a long message to 500 characters', async () => {
      const { check } = setup(async () =>
        jsonResponse({ ...running, message: 'trace line\n'.repeat(1_000) }),
      );

      const result = await check(input());

      expect(result.message).toHaveLength(500);
    });

    it('maps an unknown status and keeps the raw value', async () => {
      const { check } = setup(async () => jsonResponse({ ...running, status: 'Hibernating' }));

      const result = await check(input());

      expect(result.status).toBe('unknown');
      expect(result.rawStatus).toBe('Hibernating');
      expect(result.next).toBe('wait');
    });
  });

  describe('transient responses', () => {
    it('counts a 503 and honours Retry-After in seconds', async () => {
      const { check } = setup(async () => jsonResponse({ title: 'busy' }, 503, { 'retry-after': '120' }));

      const result = await check(input(previousCheck({ consecutiveTransientErrors: 2 })));

      expect(result.consecutiveTransientErrors).toBe(3);
      expect(result.lastError).toBe('HTTP 503 from eodatahub.org.uk');
      expect(result.next).toBe('wait');
      expect(result.nextCheckSeconds).toBe(120);
      expect(result.checks).toBe(5);
    });

    it('keeps the previous status fields', async () => {
      const { check } = setup(async () => jsonResponse({}, 502));
      const previous = previousCheck();

      const result = await check(input(previous));

      expect(result.status).toBe(previous.status);
      expect(result.progress).toBe(previous.progress);
      expect(result.message).toBe(previous.message);
      expect(result.created).toBe(previous.created);
      expect(result.lastCheckedAt).toBe('2026-11-30T09:20:04.311Z');
    });

    it('honours Retry-After as an HTTP date on a 429', async () => {
      const retryAt = new Date(now + 90_000).toUTCString();
      const { check } = setup(async () => jsonResponse({}, 429, { 'retry-after': retryAt }));

      const result = await check(input());

      expect(result.lastError).toBe('HTTP 429 from eodatahub.org.uk');
      // toUTCString drops the milliseconds, so the date is up to a second early.
      expect(result.nextCheckSeconds).toBeGreaterThanOrEqual(89);
      expect(result.nextCheckSeconds).toBeLessThanOrEqual(90);
    });

    it('caps Retry-After at pollMaxSeconds', async () => {
      const { check } = setup(async () => jsonResponse({}, 503, { 'retry-after': '86400' }));

      const result = await check(input());

      expect(result.nextCheckSeconds).toBe(300);
    });

    it('keeps the schedule when Retry-After is shorter', async () => {
      const { check } = setup(async () => jsonResponse({}, 503, { 'retry-after': '2' }));

      const result = await check(input());

      expect(result.nextCheckSeconds).toBe(15);
    });

    it('gives up after the transient error budget', async () => {
      const { check, logger } = setup(async () => jsonResponse({}, 500));

      const result = await check(
        input(previousCheck({ consecutiveTransientErrors: 40, transientErrorsSince: sixHoursAgo })),
      );

      expect(result.consecutiveTransientErrors).toBe(41);
      expect(result.next).toBe('give_up');
      expect(result.giveUpReason).toBe('transient_errors');
      expect(result.lastError).toBe('HTTP 500 from eodatahub.org.uk');
      expect(logger.error).toHaveBeenCalledWith(
        'monitor giving up',
        expect.objectContaining({ reason: 'transient_errors', lastError: 'HTTP 500 from eodatahub.org.uk' }),
      );
    });

    it('keeps waiting at the budget itself', async () => {
      const { check } = setup(async () => jsonResponse({}, 500));

      const result = await check(
        input(previousCheck({ consecutiveTransientErrors: 39, transientErrorsSince: sixHoursAgo })),
      );

      expect(result.consecutiveTransientErrors).toBe(40);
      expect(result.next).toBe('wait');
    });

    it('reports a timeout in words', async () => {
      const { check } = setup(async () => {
        throw new TransientHttpError('timed out after 20 s waiting for eodatahub.org.uk', {
          kind: 'timeout',
        });
      });

      const result = await check(input());

      expect(result.lastError).toBe('timed out after 20 s waiting for eodatahub.org.uk');
      expect(result.consecutiveTransientErrors).toBe(1);
      expect(result.status).toBe('unknown');
    });

    it('treats an HTML page as a transient response', async () => {
      const { check } = setup(
        async () =>
          new Response('<html>maintenance</html>', {
            headers: { 'content-type': 'text/html; charset=utf-8' },
          }),
      );

      const result = await check(input());

      expect(result.lastError).toBe('a text/html response, not JSON, from eodatahub.org.uk');
      expect(result.next).toBe('wait');
    });

    it('treats malformed JSON as a transient response', async () => {
      const { check } = setup(
        async () => new Response('{"status": "runn', { headers: { 'content-type': 'application/json' } }),
      );

      const result = await check(input());

      expect(result.lastError).toBe('malformed JSON from eodatahub.org.uk');
    });

    it('treats JSON that is not an object as a transient response', async () => {
      const { check } = setup(async () => jsonResponse(['running']));

      const result = await check(input());

      expect(result.lastError).toBe('status document from eodatahub.org.uk is not a JSON object');
    });

    it('treats a document for another job as a transient response', async () => {
      const { check } = setup(async () => jsonResponse({ ...running, jobID: 'other-job', id: 'other-job' }));

      const result = await check(input(previousCheck()));

      expect(result.lastError).toBe('status document is for another job ("other-job")');
      expect(result.consecutiveTransientErrors).toBe(1);
      expect(result.progress).toBe(23);
    });

    it('treats an oversized document as a transient response', async () => {
      const { check } = setup(async () => new Response(`{"pad":"${'x'.repeat(1_100_000)}"}`));

      const result = await check(input());

      expect(result.lastError).toBe('response from eodatahub.org.uk is larger than 1048576 bytes');
    });

    it('archives a finished job even when the next check fails', async () => {
      const { check } = setup(async () => jsonResponse({}, 503));
      const terminalSeenAt = new Date(now - 120_000).toISOString();

      const result = await check(
        input(previousCheck({ status: 'successful', logUrls: 2, terminalSeenAt, next: 'archive' })),
      );

      expect(result.next).toBe('archive');
      expect(result.lastError).toBe('HTTP 503 from eodatahub.org.uk');
    });

    it('logs a warning and counts the error', async () => {
      const { check, logger, metrics } = setup(async () => jsonResponse({}, 503));

      await check(input());

      expect(logger.warn).toHaveBeenCalledWith('status check failed; retrying at the next check', {
        error: 'HTTP 503 from eodatahub.org.uk',
        httpStatus: 503,
        retryAfterSeconds: null,
        consecutiveTransientErrors: 1,
        transientErrorsSince: '2026-11-30T09:20:04.311Z',
        nextCheckSeconds: 15,
      });
      expect(metrics.addMetric).toHaveBeenCalledWith('checks', 'Count', 1);
      expect(metrics.addMetric).toHaveBeenCalledWith('transientErrors', 'Count', 1);
    });

    it('treats an unexpected 4xx as transient', async () => {
      const { check } = setup(async () => jsonResponse({}, 400));

      const result = await check(input());

      expect(result.lastError).toBe('unexpected HTTP 400 from eodatahub.org.uk');
      expect(result.consecutiveTransientErrors).toBe(1);
    });
  });

  describe('token rejections', () => {
    it('counts a 403 on its own budget', async () => {
      const { check, metrics } = setup(async () => jsonResponse({}, 403));

      const result = await check(input(previousCheck({ consecutiveTransientErrors: 3 })));

      expect(result.consecutiveAuthErrors).toBe(1);
      expect(result.consecutiveTransientErrors).toBe(3);
      expect(result.lastError).toBe('token rejected or job not found (HTTP 403)');
      expect(result.next).toBe('wait');
      expect(metrics.addMetric).not.toHaveBeenCalledWith('transientErrors', 'Count', 1);
    });

    it('gives up after the auth error budget', async () => {
      const { check } = setup(async () => jsonResponse({}, 401));

      const result = await check(
        input(previousCheck({ consecutiveAuthErrors: 5, authErrorsSince: twoDaysAgo })),
      );

      expect(result.next).toBe('give_up');
      expect(result.giveUpReason).toBe('auth_rejected');
      expect(result.lastError).toBe('token rejected or job not found (HTTP 401)');
    });

    it('treats a 404 like a 403', async () => {
      const { check } = setup(async () => jsonResponse({}, 404));

      const result = await check(input());

      expect(result.consecutiveAuthErrors).toBe(1);
      expect(result.lastError).toBe('token rejected or job not found (HTTP 404)');
    });
  });

  describe('job age', () => {
    it('gives up on a job older than maxJobAgeHours', async () => {
      const { check } = setup(async () => jsonResponse(running), { now: Date.parse('2026-12-14T09:12:05Z') });

      const result = await check(input(previousCheck()));

      expect(result.next).toBe('give_up');
      expect(result.giveUpReason).toBe('job_age');
    });

    it('measures age from the monitor start when created is missing', async () => {
      const withoutCreated = { ...running, created: undefined };
      const { check } = setup(async () => jsonResponse(withoutCreated), {
        now: Date.parse('2026-11-30T11:12:06Z'),
      });

      const result = await check({
        job: { ...job, options: { ...job.options, maxJobAgeHours: 2 } },
        previous: null,
      });

      expect(result.created).toBeNull();
      expect(result.giveUpReason).toBe('job_age');
    });

    it('still archives a finished job older than maxJobAgeHours', async () => {
      const { check } = setup(async () => jsonResponse(successful), {
        now: Date.parse('2026-12-24T00:00:00Z'),
      });

      const result = await check(input(previousCheck()));

      expect(result.next).toBe('archive');
    });
  });

  describe('errors and logging', () => {
    it('rethrows a URL rule violation', async () => {
      const { check } = setup(async () => {
        throw new UrlNotAllowedError('example.org', 'host example.org is not allowed');
      });

      await expect(check(input())).rejects.toThrow(UrlNotAllowedError);
    });

    it('rejects input without a valid job context', async () => {
      const { check, fetch } = setup(async () => jsonResponse(running));

      const attempt = check({ job: { ...job, statusUrl: 42 }, previous: null } as unknown as CheckInput);

      await expect(attempt).rejects.toThrow(InvalidInputError);
      await expect(attempt).rejects.toThrow('invalid job.statusUrl');
      expect(fetch).not.toHaveBeenCalled();
    });

    it('rejects a malformed previous check', async () => {
      const { check } = setup(async () => jsonResponse(running));

      await expect(
        check({ job, previous: { ...previousCheck(), checks: -1 } } as CheckInput),
      ).rejects.toThrow('invalid previous.checks');
    });

    it('appends the job keys for the invocation and removes them after', async () => {
      const { check, logger } = setup(async () => jsonResponse(running));

      await check(input());

      expect(logger.appendKeys).toHaveBeenCalledWith({ job_id: jobId, workspace: 'demo-ws' });
      expect(logger.info).toHaveBeenCalledWith('job status checked', {
        status: 'running',
        progress: 23,
        next: 'wait',
        nextCheckSeconds: 15,
        checks: 1,
        checksThisExecution: 1,
      });
      expect(logger.removeKeys).toHaveBeenCalledWith(['job_id', 'workspace', 'execution']);
    });

    it('removes the job keys when the check throws', async () => {
      const { check, logger } = setup(async () => {
        throw new UrlNotAllowedError('example.org', 'host example.org is not allowed');
      });

      await expect(check(input())).rejects.toThrow();
      expect(logger.removeKeys).toHaveBeenCalledWith(['job_id', 'workspace', 'execution']);
    });
  });

  describe('with the guarded fetch', () => {
    let server: Server | undefined;

    afterEach(async () => {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    });

    it('sends the token and Accept header to the status URL', async () => {
      const seen: IncomingHttpHeaders[] = [];
      server = createServer((request, response) => {
        seen.push(request.headers);
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(running));
      });
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      const fetch = createGuardedFetch({
        allowedHosts: [`127.0.0.1:${port}`],
        allowLoopback: true,
        getToken: async () => 'sandbox-token',
      });
      const logger = fakeLogger();
      const check = createCheckStatusHandler({ fetch, clock: { now: () => now }, random: () => 0, logger });

      const result = await check({
        job: { ...job, statusUrl: `http://127.0.0.1:${port}/jobs/${jobId}` },
        previous: null,
      });
      await fetch.close();

      expect(result.status).toBe('running');
      expect(seen[0]?.authorization).toBe('Bearer sandbox-token');
      expect(seen[0]?.accept).toBe('application/json');
      expect(JSON.stringify(logger.info.mock.calls)).not.toContain('sandbox-token');
    });

    it('builds working dependencies from local configuration', async () => {
      const seen: IncomingHttpHeaders[] = [];
      server = createServer((request, response) => {
        seen.push(request.headers);
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify(successful));
      });
      await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      const config = readMonitorConfig({ API_URL: `http://127.0.0.1:${port}`, ALLOW_LOOPBACK: 'true' });
      const deps = defaultCheckStatusDependencies(config, { EODH_TOKEN: 'local-token' });
      const check = createCheckStatusHandler({
        ...deps,
        logger: fakeLogger(),
        metrics: { addMetric: vi.fn() },
      });

      const result = await check({
        job: { ...job, statusUrl: `http://127.0.0.1:${port}/jobs/${jobId}` },
        previous: null,
      });

      expect(result.status).toBe('successful');
      expect(result.next).toBe('archive');
      expect(seen[0]?.authorization).toBe('Bearer local-token');
    });
  });

  it('imports without configuration and fails on invocation naming the variable', async () => {
    vi.stubEnv('HTTP_TIMEOUT_MS', 'slow');

    await expect(handler(input(), {} as never)).rejects.toThrow('invalid HTTP_TIMEOUT_MS "slow"');
  });
});
