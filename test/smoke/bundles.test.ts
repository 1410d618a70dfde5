import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CfnResource } from 'aws-cdk-lib';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ArtifactError,
  ConfigurationError,
  InvalidInputError,
  MonitorError,
  UrlNotAllowedError,
} from '../../lambdas/core/errors';
import { type MonitorFunctionName, monitorFunctionNames } from '../../lib/monitor-functions';
import type { MonitorStack } from '../../lib/monitor-stack';
import { synthMonitorStack } from '../infra/synth';

/**
 * Errors a handler raises on purpose before doing any I/O. A network or AWS SDK error here would
 * mean the handler got further than configuration and input checks, which this test must not do.
 */
const projectErrorNames = new Set(
  [
    new MonitorError('x'),
    new ConfigurationError('x'),
    new InvalidInputError('x', 'x'),
    new UrlNotAllowedError('x', 'x'),
    new ArtifactError('x'),
  ].map((error) => error.name),
);

/** Catches a bundle that pulled in a whole dependency tree. Lambda's own cap is 250 MB unzipped. */
const maxBundleBytes = 5 * 1024 * 1024;

/** Small events that fail input validation, so no handler reaches the network. */
const invalidEvents: Record<MonitorFunctionName, unknown> = {
  validateInput: { input: {}, executionName: 'smoke', executionStartTime: '2026-01-01T00:00:00.000Z' },
  checkStatus: { job: null, previous: null },
  planArchive: { job: null, check: null },
  archiveArtifacts: { job: null, batch: 0 },
  publishOutcome: { job: null, check: null, plan: null, archive: null },
};

// Variables the stack sets, cleared so each handler meets the missing-configuration path.
const deployedVariables = [
  'API_URL',
  'ALLOWED_HOSTS',
  'TOKEN_SECRET_NAME',
  'EODH_TOKEN',
  'ARCHIVE_BUCKET',
  'ARCHIVE_PREFIX',
  'TOPIC_ARN',
  'HTTP_TIMEOUT_MS',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
];

function fakeContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: '00000000-0000-4000-8000-000000000000',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'smoke',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

type BundledHandler = (event: unknown, context: Context) => Promise<unknown>;

/** Imports a bundle and invokes its handler once. Returns what it threw, and fails when it returned. */
async function errorFromBundle(file: string, event: unknown, functionName: string): Promise<Error> {
  try {
    const bundle = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as {
      handler?: BundledHandler;
    };
    if (typeof bundle.handler !== 'function') {
      throw new Error(`${file} exports no handler function`);
    }
    await bundle.handler(event, fakeContext(functionName));
  } catch (error) {
    return error as Error;
  }
  throw new Error(`${functionName} returned for an invalid event`);
}

const outdir = mkdtempSync(join(tmpdir(), 'eodh-bundles-'));
let stack: MonitorStack;
let template: Record<string, { Type: string; Metadata?: Record<string, unknown> }>;

beforeAll(() => {
  // The CDK CLI sets asset metadata, which names each function's staged asset directory.
  const result = synthMonitorStack({
    outdir,
    bundle: true,
    context: { 'aws:cdk:enable-asset-metadata': true },
  });
  stack = result.stack;
  template = result.template.toJSON().Resources;
});

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

function bundleFileOf(name: MonitorFunctionName): string {
  const logicalId = stack.resolve(
    stack.getLogicalId(stack.functions[name].node.defaultChild as CfnResource),
  ) as string;
  const assetPath = template[logicalId]?.Metadata?.['aws:asset:path'];
  if (typeof assetPath !== 'string') {
    throw new Error(`no asset path recorded for ${name} (${logicalId})`);
  }
  return join(outdir, assetPath, 'index.mjs');
}

describe('handler bundles', () => {
  it.each(monitorFunctionNames)('bundles %s under 5 MiB', (name) => {
    const bytes = statSync(bundleFileOf(name)).size;
    console.info(`bundle size ${name}: ${bytes} bytes`);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(maxBundleBytes);
  });

  it.each(monitorFunctionNames)('loads and runs %s', async (name) => {
    for (const variable of deployedVariables) {
      vi.stubEnv(variable, undefined);
    }
    // Guards only: no request is expected, and any AWS SDK call would hit a closed loopback port.
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    vi.stubEnv('AWS_ENDPOINT_URL', 'http://127.0.0.1:9');

    const error = await errorFromBundle(bundleFileOf(name), invalidEvents[name], name);
    console.info(`${name} threw ${error.name}: ${error.message}`);
    expect(error).toBeInstanceOf(Error);
    expect([...projectErrorNames], `${error.name}: ${error.message}`).toContain(error.name);
  });
});
