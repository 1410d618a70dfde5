import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MonitorLogger } from '../../lambdas/adapters/powertools';
import { createCheckStatusHandler, defaultCheckStatusDependencies } from '../../lambdas/check-status';
import { readMonitorConfig } from '../../lambdas/core/config';
import type { GuardedFetch, Notifier, OutcomeMessage } from '../../lambdas/core/ports';
import type { JobContext } from '../../lambdas/core/state';
import running from '../fixtures/eodh/status-running.json';
import { fixtureJob, fixtureJobId, fixtureStatusUrl, runningCheck } from './support/fixtures';

const sns = mockClient(SNSClient);

afterEach(() => {
  sns.reset();
});

const jobId = fixtureJobId;
const statusUrl = fixtureStatusUrl;
const now = Date.parse('2026-11-30T09:20:04.311Z');
const topicArn = 'arn:aws:sns:eu-west-2:123456789012:eodh-job-outcomes';

const job: JobContext = fixtureJob({ options: { stuckAfterHours: 24 } });

const previous = runningCheck;

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

function recorder(failures = 0): Notifier & { messages: OutcomeMessage[] } {
  const messages: OutcomeMessage[] = [];
  let left = failures;
  return {
    messages,
    async publish(message) {
      if (left > 0) {
        left -= 1;
        throw new Error('Rate exceeded');
      }
      messages.push(message);
      return { messageId: `warning-${messages.length}` };
    },
  };
}

const forbidden = async () =>
  new Response('{"title":"Forbidden"}', { status: 403, headers: { 'content-type': 'application/json' } });
const runningDocument = async () =>
  new Response(JSON.stringify(running), { status: 200, headers: { 'content-type': 'application/json' } });

function setup(respond: () => Promise<Response>, notifier: Notifier | null, at = now) {
  const fetch = vi.fn<GuardedFetch>(respond);
  const logger = fakeLogger();
  const check = createCheckStatusHandler({
    fetch,
    clock: { now: () => at },
    random: () => 0,
    logger,
    notifier,
    tokenSecretName: 'eodh/api-token',
  });
  return { check, fetch, logger };
}

describe('check-status warnings', () => {
  it('publishes one token warning naming the secret', async () => {
    const notifier = recorder();
    const { check } = setup(forbidden, notifier);

    const first = await check({ job, previous: previous(), execution: jobId });
    const second = await check({ job, previous: first, execution: jobId });

    expect(notifier.messages).toHaveLength(1);
    const message = notifier.messages[0];
    expect(message?.subject).toBe('[EODH] warning: token rejected (demo-ws, 3f9c2e1a)');
    expect(message?.text).toContain('token rejected; rotate the secret named eodh/api-token');
    expect(message?.text).toContain(`Execution:  ${jobId}`);
    expect(message?.attributes).toEqual({ outcome: 'warning', workspace: 'demo-ws', processId: 'ndvi-calc' });
    expect(first.warningsSent).toEqual(['token_rejected']);
    expect(second.warningsSent).toEqual(['token_rejected']);
    expect(second.consecutiveAuthErrors).toBe(2);
  });

  it('publishes one stuck warning and keeps monitoring', async () => {
    const notifier = recorder();
    const quietSince = new Date(now - 25 * 3_600_000).toISOString();
    const { check } = setup(runningDocument, notifier);

    const result = await check({ job, previous: previous({ lastChangeAt: quietSince }) });

    expect(result.next).toBe('wait');
    expect(result.warningsSent).toEqual(['stuck']);
    expect(notifier.messages.map((message) => message.subject)).toEqual([
      '[EODH] warning: job looks stuck (demo-ws, 3f9c2e1a)',
    ]);
    expect(notifier.messages[0]?.text).toContain('no status or progress change for 25 h');
  });

  it('tries a failed warning again at the next check', async () => {
    const notifier = recorder(1);
    const { check, logger } = setup(forbidden, notifier);

    const first = await check({ job, previous: previous() });
    const second = await check({ job, previous: first });

    expect(first.warningsSent).toEqual([]);
    expect(logger.error).toHaveBeenCalledWith(
      'warning not published; the next check tries again',
      expect.objectContaining({ warning: 'token_rejected' }),
    );
    expect(second.warningsSent).toEqual(['token_rejected']);
    expect(notifier.messages).toHaveLength(1);
  });

  it('logs a warning without a topic and marks it sent', async () => {
    const { check, logger } = setup(forbidden, null);

    const result = await check({ job, previous: previous() });

    expect(result.warningsSent).toEqual(['token_rejected']);
    expect(logger.warn).toHaveBeenCalledWith('warning not published: no topic configured', {
      warning: 'token_rejected',
    });
  });

  it('adds the execution name to the log keys', async () => {
    const { check, logger } = setup(runningDocument, null);

    await check({ job, previous: null, execution: `${jobId}--g2` });

    expect(logger.appendKeys).toHaveBeenCalledWith({
      job_id: jobId,
      workspace: 'demo-ws',
      execution: `${jobId}--g2`,
    });
  });

  it('publishes to the topic from TOPIC_ARN', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'sns-1' });
    const config = readMonitorConfig({ TOKEN_SECRET_NAME: 'eodh/api-token' });
    const deps = defaultCheckStatusDependencies(config, { TOPIC_ARN: topicArn });
    const check = createCheckStatusHandler({
      ...deps,
      fetch: vi.fn<GuardedFetch>(forbidden),
      clock: { now: () => now },
      logger: fakeLogger(),
      metrics: { addMetric: vi.fn() },
    });

    await check({ job, previous: previous() });

    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: topicArn,
      Subject: '[EODH] warning: token rejected (demo-ws, 3f9c2e1a)',
      MessageAttributes: expect.objectContaining({
        outcome: { DataType: 'String', StringValue: 'warning' },
      }),
    });
  });

  it('rejects an invalid TOPIC_ARN naming the variable', () => {
    expect(() => defaultCheckStatusDependencies(readMonitorConfig({}), { TOPIC_ARN: 'topic' })).toThrow(
      'invalid TOPIC_ARN "topic"',
    );
  });
});

describe('check-status dismissal', () => {
  const old = Date.parse('2026-12-14T09:12:05Z');

  it('dismisses a job past its age when dismissOnTimeout is set', async () => {
    const { check, fetch } = setup(runningDocument, null, old);

    const result = await check({
      job: { ...job, options: { ...job.options, dismissOnTimeout: true } },
      previous: previous(),
    });

    expect(result.giveUpReason).toBe('job_age');
    expect(result.dismissal).toBe('dismissed');
    expect(fetch).toHaveBeenLastCalledWith(statusUrl, { method: 'DELETE', accept: 'application/json' });
  });

  it('reports a failed dismissal', async () => {
    const fetch = vi
      .fn<GuardedFetch>()
      .mockImplementationOnce(runningDocument)
      .mockResolvedValueOnce(new Response('', { status: 501 }));
    const logger = fakeLogger();
    const check = createCheckStatusHandler({ fetch, clock: { now: () => old }, random: () => 0, logger });

    const result = await check({
      job: { ...job, options: { ...job.options, dismissOnTimeout: true } },
      previous: previous(),
    });

    expect(result.dismissal).toBe('failed');
    expect(logger.error).toHaveBeenCalledWith('job dismissal failed', { httpStatus: 501 });
  });

  it('leaves the job alone by default', async () => {
    const { check, fetch } = setup(runningDocument, null, old);

    const result = await check({ job, previous: previous() });

    expect(result.giveUpReason).toBe('job_age');
    expect(result.dismissal).toBeNull();
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});
