import { describe, expect, it } from 'vitest';
import type { MonitorLogger } from '../../lambdas/adapters/powertools';
import { createArchiveArtifactsHandler } from '../../lambdas/archive-artifacts';
import { createCheckStatusHandler } from '../../lambdas/check-status';
import type { JobContext } from '../../lambdas/core/state';
import { createPlanArchiveHandler } from '../../lambdas/plan-archive';
import running from '../fixtures/eodh/status-running.json';
import { fixtureJob } from './support/fixtures';
import { createMemoryStore } from './support/memory-store';

const jobId = '3f9c2e1a-7b44-11f1-9a3e-0242ac120002';

const job: JobContext = fixtureJob({
  jobId,
  workspace: 'demo-ws',
  statusUrl: `https://eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/${jobId}`,
  monitorStartedAt: '2026-11-30T09:12:05.000Z',
  generation: 2,
});

/** Builds a logger that keeps the appended keys and records the keys present on each log line. */
function keyRecordingLogger() {
  const keys: Record<string, unknown> = {};
  const lineKeys: Record<string, unknown>[] = [];
  const record = () => {
    lineKeys.push({ ...keys });
  };
  const logger: MonitorLogger = {
    debug: record,
    info: record,
    warn: record,
    error: record,
    appendKeys: (attributes) => {
      Object.assign(keys, attributes);
    },
    removeKeys: (names) => {
      for (const name of names) delete keys[name];
    },
  };
  return { logger, keys, lineKeys };
}

const expectedKeys = { job_id: jobId, workspace: 'demo-ws', execution: `${jobId}--g2` };

describe('handler log keys', () => {
  it('check-status logs the execution from its input', async () => {
    const { logger, keys, lineKeys } = keyRecordingLogger();
    const handler = createCheckStatusHandler({
      fetch: async () =>
        new Response(JSON.stringify(running), { headers: { 'content-type': 'application/json' } }),
      clock: { now: () => Date.parse('2026-11-30T09:20:04.311Z') },
      random: () => 0,
      logger,
    });

    await handler({ job, previous: null, execution: `${jobId}--g2` });

    expect(lineKeys.at(-1)).toMatchObject(expectedKeys);
    expect(keys).toEqual({});
  });

  it('plan-archive logs the derived execution name', async () => {
    const { logger, keys, lineKeys } = keyRecordingLogger();
    const handler = createPlanArchiveHandler({
      fetch: async () => new Response('{}', { status: 503 }),
      store: createMemoryStore(),
      clock: { now: () => Date.parse('2026-11-30T09:40:00Z') },
      logger,
      retry: { attempts: 1, delayMs: () => 0, sleep: async () => {} },
    });

    await handler({ job, check: null }).catch(() => {});

    expect(lineKeys.length).toBeGreaterThan(0);
    expect(lineKeys[0]).toMatchObject(expectedKeys);
    expect(keys).toEqual({});
  });

  it('archive-artifacts logs the derived execution name', async () => {
    const { logger, keys } = keyRecordingLogger();
    const appended: Record<string, unknown>[] = [];
    const handler = createArchiveArtifactsHandler({
      fetch: async () => new Response('', { status: 404 }),
      store: createMemoryStore(),
      logger: {
        ...logger,
        appendKeys: (attributes) => {
          appended.push(attributes);
          logger.appendKeys(attributes);
        },
      },
    });

    // No plan.json in the store, so the batch fails after the keys are set.
    await expect(handler({ job, batch: 0 })).rejects.toThrow();

    expect(appended).toEqual([{ ...expectedKeys, batch: 0 }]);
    expect(keys).toEqual({});
  });
});
