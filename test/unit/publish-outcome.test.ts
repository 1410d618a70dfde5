import { readFileSync } from 'node:fs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createSnsNotifier } from '../../lambdas/adapters/sns-notifier';
import { archiveKeys, type ManifestPart, type ManifestRecord } from '../../lambdas/core/manifest';
import type { Notifier, OutcomeMessage } from '../../lambdas/core/ports';
import type {
  CheckResult,
  JobContext,
  MonitorFailureInput,
  PlanSummary,
  PublishInput,
} from '../../lambdas/core/state';
import {
  createPublishOutcomeHandler,
  type PublishLogger,
  readPublishOutcomeConfig,
  stepFunctionsConsoleUrl,
} from '../../lambdas/publish-outcome';
import { fixtureJob } from './support/fixtures';
import { createMemoryStore, type MemoryStore } from './support/memory-store';

const snsMock = mockClient(SNSClient);

afterEach(() => {
  snsMock.reset();
});

const jobId = '3f9c2e1a-7b44-11f1-9a3e-0242ac120002';
const prefix = `demo-ws/${jobId}/`;
const now = Date.parse('2026-11-30T09:33:00.000Z');
const fixture = (name: string) => readFileSync(new URL(`../fixtures/eodh/${name}`, import.meta.url), 'utf8');

const job: JobContext = fixtureJob({
  jobId,
  workspace: 'demo-ws',
  statusUrl: `https://eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/${jobId}`,
  monitorStartedAt: '2026-11-30T09:12:10.000Z',
  generation: 0,
});

function check(overrides: Partial<CheckResult> = {}): CheckResult {
  return {
    status: 'successful',
    rawStatus: 'successful',
    progress: null,
    message: 'ZOO-Kernel successfully run your service!',
    processId: 'ndvi-calc',
    created: '2026-11-30T09:12:04.311Z',
    started: '2026-11-30T09:12:04.311Z',
    finished: '2026-11-30T09:31:57.640Z',
    updated: '2026-11-30T09:31:57.402Z',
    resultsUrl: `${job.statusUrl}/results`,
    logUrls: 2,
    checks: 14,
    consecutiveTransientErrors: 0,
    consecutiveAuthErrors: 0,
    lastError: null,
    lastCheckedAt: '2026-11-30T09:32:10.000Z',
    terminalSeenAt: '2026-11-30T09:32:10.000Z',
    next: 'archive',
    giveUpReason: null,
    nextCheckSeconds: 1,
    ...overrides,
  };
}

const plan: PlanSummary = {
  archiveUri: `memory://archive/${prefix}`,
  planKey: `${prefix}plan.json`,
  batches: [0],
  files: 3,
  documentsArchived: 3,
  documentBytes: 4_000,
  failures: [],
  failureCount: 0,
};

function record(key: string, overrides: Partial<ManifestRecord> = {}): ManifestRecord {
  return {
    key,
    source: `https://demo-ws.eodatahub-workspaces.org.uk/files/workspaces-eodhp/processing-results/ndvi-calc/${key}`,
    kind: 'asset',
    bytes: 1_000,
    sha256: 'c'.repeat(64),
    contentType: 'image/tiff',
    outcome: 'archived',
    ...overrides,
  };
}

async function putPart(store: MemoryStore, key: string, part: ManifestPart): Promise<void> {
  await store.putObject(`${prefix}${key}`, JSON.stringify(part), { contentType: 'application/json' });
}

/** Creates a notifier that keeps every message it is given. */
function recordingNotifier(messageId: string | null = 'm-1'): Notifier & { messages: OutcomeMessage[] } {
  const messages: OutcomeMessage[] = [];
  return {
    messages,
    async publish(message) {
      messages.push(message);
      return { messageId };
    },
  };
}

interface LogEntry {
  level: string;
  message: string;
  attributes: unknown;
}

function recordingLogger(): PublishLogger & { entries: LogEntry[]; keys: Record<string, unknown> } {
  const entries: LogEntry[] = [];
  const keys: Record<string, unknown> = {};
  const log =
    (level: string) =>
    (message: unknown, ...extra: unknown[]) => {
      entries.push({ level, message: String(message), attributes: extra[0] });
    };
  return {
    entries,
    keys,
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    appendKeys: (added) => {
      Object.assign(keys, added);
    },
    removeKeys: (names) => {
      for (const name of names) delete keys[name];
    },
  };
}

function setup(options: { notifier?: Notifier | null } = {}) {
  const store = createMemoryStore({ consoleUrlBase: 'https://console.example.test/' });
  const notifier = options.notifier === undefined ? recordingNotifier() : options.notifier;
  const logger = recordingLogger();
  const handler = createPublishOutcomeHandler({
    store,
    notifier,
    clock: { now: () => now },
    logger,
    region: 'eu-west-2',
  });
  return { store, notifier, logger, handler };
}

function publishInput(overrides: Partial<PublishInput> = {}): PublishInput {
  return { job, check: check(), plan, archive: [], ...overrides };
}

describe('publish outcome', () => {
  it('merges manifest parts into manifest.json', async () => {
    const { store, handler } = setup();
    await putPart(store, archiveKeys.documentsPart, {
      part: 'documents',
      records: [
        record('status.json', {
          kind: 'status',
          bytes: 1_500,
          source: job.statusUrl,
          contentType: 'application/json',
        }),
        record('results/collection.json', { kind: 'results', bytes: 800, source: null }),
      ],
    });
    await putPart(store, archiveKeys.batchPart(0), {
      part: 'batch-00000',
      records: [
        record('results/ndvi/ndvi.tif', { bytes: 48_213_377 }),
        record('logs/ndvi.log', { kind: 'log', bytes: 230, contentType: 'text/plain' }),
        record('results/ndvi/preview.png', { outcome: 'failed', bytes: 0, sha256: null, reason: 'HTTP 404' }),
      ],
    });

    const summary = await handler(publishInput());

    const manifest = JSON.parse(store.text(`${prefix}manifest.json`));
    expect(manifest).toEqual({
      jobId,
      workspace: 'demo-ws',
      processId: 'ndvi-calc',
      outcome: 'succeeded',
      generatedAt: '2026-11-30T09:33:00.000Z',
      totals: { archived: 4, skipped: 0, failed: 1, bytes: 48_215_907 },
      records: [
        record('logs/ndvi.log', { kind: 'log', bytes: 230, contentType: 'text/plain' }),
        record('results/collection.json', { kind: 'results', bytes: 800, source: null }),
        record('results/ndvi/ndvi.tif', { bytes: 48_213_377 }),
        record('results/ndvi/preview.png', { outcome: 'failed', bytes: 0, sha256: null, reason: 'HTTP 404' }),
        record('status.json', {
          kind: 'status',
          bytes: 1_500,
          source: job.statusUrl,
          contentType: 'application/json',
        }),
      ],
    });
    expect(store.objects.get(`${prefix}manifest.json`)?.contentType).toBe('application/json');
    expect(summary).toEqual({
      outcome: 'succeeded',
      subject: '[EODH] ndvi-calc succeeded (demo-ws, 3f9c2e1a)',
      archiveUri: `memory://archive/${prefix}`,
      filesArchived: 2,
      bytesArchived: 48_213_607,
      filesFailed: 1,
      messageId: 'm-1',
    });
  });

  it('writes outcome.json equal to the published JSON copy', async () => {
    const { store, notifier, handler } = setup();
    await handler(publishInput());

    const messages = (notifier as ReturnType<typeof recordingNotifier>).messages;
    expect(messages).toHaveLength(1);
    const published = messages[0] as OutcomeMessage;
    expect(JSON.parse(store.text(`${prefix}outcome.json`))).toEqual(published.json);
    expect(published.json).toMatchObject({
      version: 1,
      outcome: 'succeeded',
      jobId,
      workspace: 'demo-ws',
      processId: 'ndvi-calc',
      status: 'successful',
      durationSeconds: 1_193,
      publishedAt: '2026-11-30T09:33:00.000Z',
      archive: { uri: `memory://archive/${prefix}`, consoleUrl: `https://console.example.test/${prefix}` },
    });
    expect(published.attributes).toEqual({
      outcome: 'succeeded',
      workspace: 'demo-ws',
      processId: 'ndvi-calc',
    });
  });

  it('tolerates a run without manifest parts', async () => {
    const { store, notifier, handler } = setup();
    const summary = await handler(publishInput({ plan: null, archive: null, check: check({ logUrls: 0 }) }));

    const manifest = JSON.parse(store.text(`${prefix}manifest.json`));
    expect(manifest.records).toEqual([]);
    expect(manifest.totals).toEqual({ archived: 0, skipped: 0, failed: 0, bytes: 0 });
    expect(summary.archiveUri).toBe(`memory://archive/${prefix}`);
    expect(summary.filesArchived).toBe(0);
    const text = (notifier as ReturnType<typeof recordingNotifier>).messages[0]?.text ?? '';
    expect(text).toContain('No job files were archived.');
    expect(text).toContain('No logs were published by the job.');
  });

  it('skips a manifest part that is not valid', async () => {
    const { store, logger, handler } = setup();
    await store.putObject(
      `${prefix}manifest-parts/batch-00000.json`,
      '{"part": "batch-00000", "records": [{}]}',
      {
        contentType: 'application/json',
      },
    );
    await store.putObject(`${prefix}manifest-parts/batch-00001.json`, 'not json', {
      contentType: 'application/json',
    });
    await putPart(store, archiveKeys.batchPart(2), {
      part: 'batch-00002',
      records: [record('results/a.tif')],
    });

    const summary = await handler(publishInput());

    expect(summary.filesArchived).toBe(1);
    const skipped = logger.entries.filter((entry) => entry.message === 'manifest part skipped');
    expect(skipped.map((entry) => (entry.attributes as { key: string }).key)).toEqual([
      `${prefix}manifest-parts/batch-00000.json`,
      `${prefix}manifest-parts/batch-00001.json`,
    ]);
  });

  it('puts the failing step log tail in a failed job message', async () => {
    const { store, notifier, handler } = setup();
    const status = JSON.parse(fixture('status-failed-exception.json'));
    status.links.push(
      { rel: 'related', type: 'text/plain', title: 'Tool log fetch.log', href: `${job.statusUrl}/fetch.log` },
      {
        rel: 'related',
        type: 'text/plain',
        title: 'Tool log node_stage_out.log',
        href: `${job.statusUrl}/node_stage_out.log`,
      },
    );
    await store.putObject(`${prefix}status.json`, JSON.stringify(status), {
      contentType: 'application/json',
    });
    const ndviLog = `${fixture('ndvi.log')}Traceback (most recent call last):\n  File "/app/run.py", line 88, in execute\nRuntimeError: input scene has no red band\n`;
    await store.putObject(`${prefix}logs/ndvi.log`, ndviLog, { contentType: 'text/plain' });
    await store.putObject(`${prefix}logs/fetch.log`, 'fetched 4 bands\n', { contentType: 'text/plain' });
    await store.putObject(`${prefix}logs/node_stage_out.log`, 'nothing staged out\n', {
      contentType: 'text/plain',
    });
    await putPart(store, archiveKeys.batchPart(0), {
      part: 'batch-00000',
      records: [
        record('logs/node_stage_out.log', { kind: 'log', bytes: 19 }),
        record('logs/ndvi.log', { kind: 'log', bytes: ndviLog.length }),
        record('logs/fetch.log', { kind: 'log', bytes: 16 }),
      ],
    });

    const summary = await handler(
      publishInput({
        check: check({ status: 'failed', message: status.message, finished: status.finished, logUrls: 3 }),
      }),
    );

    expect(summary.outcome).toBe('failed');
    const message = (notifier as ReturnType<typeof recordingNotifier>).messages[0] as OutcomeMessage;
    expect(message.subject).toBe('[EODH] ndvi-calc failed (demo-ws, 3f9c2e1a)');
    expect(message.text.startsWith('The job failed.\nStatus message: Exception during execution...\n')).toBe(
      true,
    );
    expect(message.text).toContain(
      'Last 7 lines of logs/ndvi.log:\n' +
        '  2026-11-30T09:14:41Z INFO  staging input scene S2B_MSIL2A_20260601 (4 bands)\n',
    );
    expect(message.text).toContain('  RuntimeError: input scene has no red band\n');
    expect(message.json.logTail).toEqual({
      log: 'logs/ndvi.log',
      lines: [
        '2026-11-30T09:14:41Z INFO  staging input scene S2B_MSIL2A_20260601 (4 bands)',
        '2026-11-30T09:18:02Z INFO  computing NDVI over 10980 x 10980 pixels',
        '2026-11-30T09:29:55Z INFO  wrote ndvi.tif (48213377 bytes)',
        '2026-11-30T09:30:03Z INFO  wrote catalog.json with 2 items',
        'Traceback (most recent call last):',
        '  File "/app/run.py", line 88, in execute',
        'RuntimeError: input scene has no red band',
      ],
    });
  });

  it('picks the last step log in link order without error markers', async () => {
    const { store, notifier, handler } = setup();
    const status = {
      links: ['node_stage_in.log', 'fetch.log', 'ndvi.log', 'node_stage_out.log'].map((name) => ({
        rel: 'related',
        type: 'text/plain',
        href: `${job.statusUrl}/${name}`,
      })),
    };
    await store.putObject(`${prefix}status.json`, JSON.stringify(status), {
      contentType: 'application/json',
    });
    for (const name of ['node_stage_in.log', 'fetch.log', 'ndvi.log', 'node_stage_out.log']) {
      await store.putObject(`${prefix}logs/${name}`, `${name} finished\n`, { contentType: 'text/plain' });
    }
    await putPart(store, archiveKeys.batchPart(0), {
      part: 'batch-00000',
      records: ['ndvi.log', 'node_stage_out.log', 'fetch.log', 'node_stage_in.log'].map((name) =>
        record(`logs/${name}`, { kind: 'log', bytes: 30 }),
      ),
    });

    await handler(publishInput({ check: check({ status: 'failed', logUrls: 4 }) }));

    const message = (notifier as ReturnType<typeof recordingNotifier>).messages[0] as OutcomeMessage;
    expect(message.json.logTail).toEqual({ log: 'logs/ndvi.log', lines: ['ndvi.log finished'] });
  });

  it('reports a failed job without logs', async () => {
    const { notifier, handler } = setup();
    await handler(publishInput({ check: check({ status: 'failed', logUrls: 0 }) }));
    const message = (notifier as ReturnType<typeof recordingNotifier>).messages[0] as OutcomeMessage;
    expect(message.text).toContain('No logs were published by the job.');
    expect(message.json.logTail).toBeNull();
  });

  it('reports a monitor error with the console link', async () => {
    const { notifier, handler } = setup();
    const summary = await handler(
      publishInput({
        check: check({
          status: 'running',
          next: 'give_up',
          giveUpReason: 'auth_rejected',
          consecutiveAuthErrors: 5,
        }),
        plan: null,
        archive: null,
      }),
    );
    expect(summary.outcome).toBe('monitor_error');
    const message = (notifier as ReturnType<typeof recordingNotifier>).messages[0] as OutcomeMessage;
    expect(message.subject).toBe('[EODH] ndvi-calc monitor error (demo-ws, 3f9c2e1a)');
    expect(message.text).toContain(
      'Reason: token rejected or job not found (5 consecutive 401/403 responses)',
    );
    expect(message.text).toContain(
      'History:    https://eu-west-2.console.aws.amazon.com/states/home?region=eu-west-2#/statemachines',
    );
    expect(message.text).not.toContain('No logs were published');
  });

  it('writes outcome.json without a notifier', async () => {
    const { store, logger, handler } = setup({ notifier: null });
    const summary = await handler(publishInput());
    expect(summary.messageId).toBeNull();
    expect(JSON.parse(store.text(`${prefix}outcome.json`)).outcome).toBe('succeeded');
    expect(logger.entries.map((entry) => entry.message)).toContain(
      'outcome not published: no topic configured',
    );
  });

  it('rejects when publishing fails', async () => {
    const notifier: Notifier = {
      publish: async () => {
        throw new Error('SNS unavailable');
      },
    };
    const { store, handler } = setup({ notifier });
    await expect(handler(publishInput())).rejects.toThrow('SNS unavailable');
    expect(store.objects.has(`${prefix}outcome.json`)).toBe(true);
  });

  it('clears the log keys after the invocation', async () => {
    const { logger, handler } = setup();
    await handler(publishInput());
    expect(logger.keys).toEqual({});
  });

  it('links and logs the execution', async () => {
    const { notifier, logger, handler } = setup();
    const appended: Record<string, unknown>[] = [];
    const appendKeys = logger.appendKeys;
    logger.appendKeys = (keys) => {
      appended.push(keys);
      appendKeys(keys);
    };
    const executionArn = `arn:aws:states:eu-west-2:123456789012:execution:EodhJobMonitor:${jobId}--g1`;

    await handler(publishInput({ execution: `${jobId}--g1`, executionArn }));

    const message = (notifier as ReturnType<typeof recordingNotifier>).messages[0] as OutcomeMessage;
    expect(message.attributes.outcome).toBe('succeeded');
    expect(message.text).toContain(`Execution:  ${jobId}--g1\n`);
    expect(message.text).toContain(
      `History:    https://eu-west-2.console.aws.amazon.com/states/home?region=eu-west-2#/v2/executions/details/${executionArn}\n`,
    );
    expect(message.json).toMatchObject({ execution: `${jobId}--g1`, executionArn });
    expect(appended).toEqual([{ job_id: jobId, workspace: 'demo-ws', execution: `${jobId}--g1` }]);
    expect(logger.keys).toEqual({});
  });

  it('leaves out the links without an execution', async () => {
    const { notifier, handler } = setup();

    await handler(publishInput());

    const message = (notifier as ReturnType<typeof recordingNotifier>).messages[0] as OutcomeMessage;
    expect(message.text).not.toContain('Execution:');
    expect(message.text).not.toContain('History:');
    expect(message.json).toMatchObject({ execution: null, executionArn: null });
  });

  it('publishes through SNS', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'sns-1' });
    const notifier = createSnsNotifier({
      client: new SNSClient({ region: 'eu-west-2' }),
      topicArn: 'arn:aws:sns:eu-west-2:123456789012:eodh-job-outcomes',
    });
    const { handler } = setup({ notifier });

    const summary = await handler(publishInput());

    expect(summary.messageId).toBe('sns-1');
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: 'arn:aws:sns:eu-west-2:123456789012:eodh-job-outcomes',
      Subject: '[EODH] ndvi-calc succeeded (demo-ws, 3f9c2e1a)',
      MessageStructure: 'json',
      MessageAttributes: {
        outcome: { DataType: 'String', StringValue: 'succeeded' },
        workspace: { DataType: 'String', StringValue: 'demo-ws' },
        processId: { DataType: 'String', StringValue: 'ndvi-calc' },
      },
    });
  });
});

function failureInput(overrides: Partial<MonitorFailureInput> = {}): MonitorFailureInput {
  return {
    failure: true,
    state: {
      job,
      check: check({ status: 'running', next: 'wait', finished: null }),
      plan,
      error: {
        Error: 'States.TaskFailed',
        Cause: JSON.stringify({ errorType: 'AccessDenied', errorMessage: 'Access Denied\nRequest ID: 1' }),
      },
    },
    executionInput: { jobId, workspace: 'demo-ws' },
    executionName: jobId,
    ...overrides,
  };
}

describe('publish monitor failure', () => {
  it('links the failed execution', async () => {
    const { notifier, handler } = setup();
    const executionArn = `arn:aws:states:eu-west-2:123456789012:execution:EodhJobMonitor:${jobId}`;

    await handler(failureInput({ execution: jobId, executionArn }));

    const message = (notifier as ReturnType<typeof recordingNotifier>).messages[0] as OutcomeMessage;
    expect(message.text).toContain(
      `History:    https://eu-west-2.console.aws.amazon.com/states/home?region=eu-west-2#/v2/executions/details/${executionArn}\n`,
    );
    expect(message.json).toMatchObject({ execution: jobId, executionArn });
  });

  it('ignores an execution ARN of the wrong type', async () => {
    const { notifier, handler } = setup();

    await handler(failureInput({ executionArn: 42 as unknown as string }));

    const message = (notifier as ReturnType<typeof recordingNotifier>).messages[0] as OutcomeMessage;
    expect(message.text).toContain(
      'History:    https://eu-west-2.console.aws.amazon.com/states/home?region=eu-west-2#/statemachines\n',
    );
    expect(message.json).toMatchObject({ executionArn: null });
  });

  it('reports the error and writes outcome.json', async () => {
    const { store, notifier, handler } = setup();
    const summary = await handler(failureInput());

    const message = (notifier as ReturnType<typeof recordingNotifier>).messages[0] as OutcomeMessage;
    expect(summary).toEqual({
      outcome: 'monitor_error',
      subject: '[EODH] ndvi-calc monitor error (demo-ws, 3f9c2e1a)',
      archiveUri: `memory://archive/${prefix}`,
      filesArchived: 0,
      bytesArchived: 0,
      filesFailed: 0,
      messageId: 'm-1',
    });
    expect(message.text).toContain('Reason: the monitor failed with States.TaskFailed: Access Denied\n');
    expect(message.text).toContain(`Execution:  ${jobId}\n`);
    expect(message.text).toContain('Error: States.TaskFailed\n  Access Denied\n  Request ID: 1\n');
    expect(message.text).toContain(
      'What to do next:\n' +
        '  Open the execution history (the History link above) to see which step failed and why. Once the cause is fixed, monitor the job again:\n' +
        `    eodh-monitor start ${jobId} --workspace demo-ws --force\n` +
        '  The job itself was not dismissed.\n',
    );
    expect(message.json).toMatchObject({
      outcome: 'monitor_error',
      jobId,
      workspace: 'demo-ws',
      error: { name: 'States.TaskFailed', message: 'Access Denied\nRequest ID: 1' },
      execution: jobId,
    });
    expect(JSON.parse(store.text(`${prefix}outcome.json`))).toEqual(message.json);
  });

  it('counts files a batch archived before the failure', async () => {
    const { store, handler } = setup();
    await putPart(store, archiveKeys.batchPart(0), {
      part: 'batch-00000',
      records: [record('results/a.tif')],
    });
    const summary = await handler(failureInput());
    expect(summary.filesArchived).toBe(1);
    expect(store.objects.has(`${prefix}manifest.json`)).toBe(false);
  });

  it('writes nothing for an invalid job but still publishes', async () => {
    const { store, notifier, handler } = setup();
    const summary = await handler(
      failureInput({
        state: {
          error: { Error: 'InvalidInputError', Cause: 'invalid jobId "../x": expected letters and digits' },
        },
        executionInput: { jobId: '../x\n', workspace: 'demo-ws' },
        executionName: 'manual-run-1',
      }),
    );

    expect(store.objects.size).toBe(0);
    expect(summary.archiveUri).toBeNull();
    const message = (notifier as ReturnType<typeof recordingNotifier>).messages[0] as OutcomeMessage;
    expect(message.subject).toBe('[EODH] job monitor error (demo-ws, ../x)');
    expect(message.text).toContain('Job:        "../x\\n" (invalid)\n');
    expect(message.json.jobId).toBeNull();
    expect(message.json.workspace).toBeNull();
  });

  it.each([
    ['a string state', 'broken'],
    ['a null error', { job, error: null }],
    [
      'a check of the wrong type',
      { job, check: [1, 2], plan: 'x', error: { Error: 42, Cause: { deep: [] } } },
    ],
  ])('does not throw for %s', async (_name, state) => {
    const { notifier, handler } = setup();
    const input = {
      failure: true,
      state,
      executionInput: 'not an object',
      executionName: '',
    } as unknown as MonitorFailureInput;
    const summary = await handler(input);
    expect(summary.outcome).toBe('monitor_error');
    expect((notifier as ReturnType<typeof recordingNotifier>).messages).toHaveLength(1);
  });

  it('publishes when outcome.json cannot be written', async () => {
    const { store, notifier, logger, handler } = setup();
    store.putObject = async () => {
      throw new Error('S3 unavailable');
    };
    const summary = await handler(failureInput());
    expect(summary.messageId).toBe('m-1');
    expect((notifier as ReturnType<typeof recordingNotifier>).messages).toHaveLength(1);
    expect(logger.entries.filter((entry) => entry.level === 'error').map((entry) => entry.message)).toEqual([
      'outcome.json not written',
    ]);
  });

  it('publishes when manifest parts cannot be listed', async () => {
    const { store, notifier, handler } = setup();
    store.list = async () => {
      throw new Error('S3 unavailable');
    };
    await handler(failureInput());
    expect((notifier as ReturnType<typeof recordingNotifier>).messages).toHaveLength(1);
  });
});

describe('stepFunctionsConsoleUrl', () => {
  it('builds the link for a region', () => {
    expect(stepFunctionsConsoleUrl('eu-west-2')).toBe(
      'https://eu-west-2.console.aws.amazon.com/states/home?region=eu-west-2#/statemachines',
    );
    expect(stepFunctionsConsoleUrl('us-gov-west-1')).toContain('https://us-gov-west-1.console');
  });

  it.each([undefined, '', 'evil.example.com/x', 'EU-WEST-2'])('returns null for %j', (region) => {
    expect(stepFunctionsConsoleUrl(region)).toBeNull();
  });
});

describe('readPublishOutcomeConfig', () => {
  it('reads the topic and region', () => {
    expect(
      readPublishOutcomeConfig({
        ARCHIVE_BUCKET: 'eodh-archive-123',
        TOPIC_ARN: 'arn:aws:sns:eu-west-2:123456789012:eodh-job-outcomes',
        AWS_REGION: 'eu-west-2',
      }),
    ).toEqual({ topicArn: 'arn:aws:sns:eu-west-2:123456789012:eodh-job-outcomes', region: 'eu-west-2' });
  });

  it('leaves the topic out when unset', () => {
    expect(readPublishOutcomeConfig({ TOPIC_ARN: ' ' })).toEqual({ topicArn: null, region: undefined });
  });

  it('names an invalid topic ARN', () => {
    expect(() => readPublishOutcomeConfig({ TOPIC_ARN: 'my-topic' })).toThrow(/invalid TOPIC_ARN/);
  });

  it('names an invalid region', () => {
    expect(() => readPublishOutcomeConfig({ AWS_REGION: 'eu west' })).toThrow(/invalid AWS_REGION/);
  });
});
