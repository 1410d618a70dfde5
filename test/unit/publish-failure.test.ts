import { describe, expect, it, vi } from 'vitest';
import { PublishFailedError } from '../../lambdas/core/errors';
import type { Notifier } from '../../lambdas/core/ports';
import type { CheckResult, JobContext, PublishInput } from '../../lambdas/core/state';
import { createPublishOutcomeHandler, readPublishOutcomeConfig } from '../../lambdas/publish-outcome';
import { fixtureJob } from './support/fixtures';
import { createMemoryStore } from './support/memory-store';

const jobId = '3f9c2e1a-7b44-11f1-9a3e-0242ac120002';

const job: JobContext = fixtureJob({
  jobId,
  workspace: 'demo-ws',
  statusUrl: `https://eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/${jobId}`,
  monitorStartedAt: '2026-11-30T09:12:10.000Z',
  generation: 0,
});

const rejected: CheckResult = {
  status: 'running',
  rawStatus: 'running',
  progress: 23,
  message: 'execution submitted',
  processId: 'ndvi-calc',
  created: '2026-11-30T09:12:04.311Z',
  started: null,
  finished: null,
  updated: null,
  resultsUrl: null,
  logUrls: 0,
  checks: 90,
  consecutiveTransientErrors: 0,
  consecutiveAuthErrors: 6,
  lastError: 'token rejected or job not found (HTTP 403)',
  lastCheckedAt: '2026-12-02T09:12:10.000Z',
  terminalSeenAt: null,
  next: 'give_up',
  giveUpReason: 'auth_rejected',
  nextCheckSeconds: 1,
};

const input: PublishInput = { job, check: rejected, plan: null, archive: null };
const silent = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), appendKeys: vi.fn(), removeKeys: vi.fn() };

describe('publish-outcome on a failed publish', () => {
  it('throws PublishFailedError with the SNS error as cause', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottledException' });
    const notifier: Notifier = {
      publish: async () => {
        throw throttled;
      },
    };
    const handler = createPublishOutcomeHandler({
      store: createMemoryStore(),
      notifier,
      clock: { now: () => Date.parse('2026-12-02T09:12:11Z') },
      logger: silent,
    });

    const caught = await handler(input).catch((error: unknown) => error);

    expect(caught).toBeInstanceOf(PublishFailedError);
    expect((caught as Error).name).toBe('PublishFailedError');
    expect((caught as Error).message).toBe('publishing the monitor_error message failed: Rate exceeded');
    expect((caught as Error).cause).toBe(throttled);
    expect(silent.warn).toHaveBeenCalledWith('outcome not published; Step Functions retries', {
      outcome: 'monitor_error',
      error: throttled,
    });
  });

  it('names the token secret in the advice', async () => {
    const messages: string[] = [];
    const handler = createPublishOutcomeHandler({
      store: createMemoryStore(),
      notifier: {
        publish: async (message) => {
          messages.push(message.text);
          return { messageId: 'm-1' };
        },
      },
      clock: { now: () => Date.parse('2026-12-02T09:12:11Z') },
      logger: silent,
      tokenSecretName: 'eodh/api-token',
    });

    await handler(input);

    expect(messages[0]).toContain('store it in the secret named eodh/api-token');
  });

  it('reads TOKEN_SECRET_NAME for the advice', () => {
    expect(readPublishOutcomeConfig({ TOKEN_SECRET_NAME: 'eodh/api-token' }).tokenSecretName).toBe(
      'eodh/api-token',
    );
    expect(() => readPublishOutcomeConfig({ TOKEN_SECRET_NAME: 'a b' })).toThrow(/invalid TOKEN_SECRET_NAME/);
  });
});
