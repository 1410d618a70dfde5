import type { Context } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import type { MonitorLogger } from '../../lambdas/adapters/powertools';
import { type MonitorConfig, readMonitorConfig } from '../../lambdas/core/config';
import { ConfigurationError, InvalidInputError } from '../../lambdas/core/errors';
import {
  createValidateInputHandler,
  handler,
  type ValidateInputEvent,
  validateMonitorInput,
} from '../../lambdas/validate-input';

const jobId = '3f9c2e1a-7b44-11f1-9a3e-0242ac120002';
const startTime = '2026-11-30T09:12:05.120Z';

function event(input: unknown): ValidateInputEvent {
  return { input, executionName: jobId, executionStartTime: startTime };
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

const config: MonitorConfig = readMonitorConfig({});

describe('readMonitorConfig', () => {
  it('applies the defaults to an empty environment', () => {
    expect(config.apiUrl).toBe('https://eodatahub.org.uk');
    expect(config.allowedHosts.map((pattern) => pattern.text)).toEqual([
      'eodatahub.org.uk',
      '*.eodatahub-workspaces.org.uk',
    ]);
    expect(config.tokenSecretName).toBeNull();
    expect(config.allowLoopback).toBe(false);
    expect(config.httpTimeoutMs).toBe(20_000);
    expect(config.defaultOptions).toEqual({
      pollInitialSeconds: 15,
      pollMaxSeconds: 900,
      maxJobAgeHours: 1_080,
      transientErrorBudget: 40,
      authErrorBudget: 5,
      logWaitSeconds: 60,
      transientErrorBudgetSeconds: 21_600,
      authErrorBudgetSeconds: 172_800,
      checksPerExecution: 500,
      stuckAfterHours: 72,
      dismissOnTimeout: false,
    });
  });

  it('reads every variable', () => {
    const local = readMonitorConfig({
      API_URL: 'http://127.0.0.1:8080/',
      ALLOWED_HOSTS: '127.0.0.1:8080, *.sandbox.test',
      ALLOW_LOOPBACK: 'true',
      TOKEN_SECRET_NAME: 'arn:aws:secretsmanager:eu-west-2:123456789012:secret:eodh/token-AbCdEf',
      POLL_INITIAL_SECONDS: '1',
      POLL_MAX_SECONDS: '2',
      MAX_JOB_AGE_HOURS: '0.5',
      LOG_WAIT_SECONDS: '0',
      TRANSIENT_ERROR_BUDGET: '3',
      AUTH_ERROR_BUDGET: '2',
      TRANSIENT_ERROR_BUDGET_SECONDS: '600',
      AUTH_ERROR_BUDGET_SECONDS: '0',
      CHECKS_PER_EXECUTION: '20',
      STUCK_AFTER_HOURS: '1.5',
      DISMISS_ON_TIMEOUT: 'true',
      HTTP_TIMEOUT_MS: '1500',
    });

    expect(local.apiUrl).toBe('http://127.0.0.1:8080');
    expect(local.allowedHosts.map((pattern) => pattern.text)).toEqual(['127.0.0.1:8080', '*.sandbox.test']);
    expect(local.allowLoopback).toBe(true);
    expect(local.tokenSecretName).toBe(
      'arn:aws:secretsmanager:eu-west-2:123456789012:secret:eodh/token-AbCdEf',
    );
    expect(local.httpTimeoutMs).toBe(1_500);
    expect(local.defaultOptions).toEqual({
      pollInitialSeconds: 1,
      pollMaxSeconds: 2,
      maxJobAgeHours: 0.5,
      transientErrorBudget: 3,
      authErrorBudget: 2,
      logWaitSeconds: 0,
      transientErrorBudgetSeconds: 600,
      authErrorBudgetSeconds: 0,
      checksPerExecution: 20,
      stuckAfterHours: 1.5,
      dismissOnTimeout: true,
    });
  });

  it.each([
    [
      'POLL_INITIAL_SECONDS',
      'soon',
      'invalid POLL_INITIAL_SECONDS "soon": expected a whole number of seconds',
    ],
    ['POLL_MAX_SECONDS', '0', 'invalid POLL_MAX_SECONDS "0"'],
    ['MAX_JOB_AGE_HOURS', '-1', 'invalid MAX_JOB_AGE_HOURS "-1"'],
    ['LOG_WAIT_SECONDS', '1e3', 'invalid LOG_WAIT_SECONDS "1e3"'],
    ['TRANSIENT_ERROR_BUDGET', '2.5', 'invalid TRANSIENT_ERROR_BUDGET "2.5"'],
    ['AUTH_ERROR_BUDGET', '0', 'invalid AUTH_ERROR_BUDGET "0"'],
    ['TRANSIENT_ERROR_BUDGET_SECONDS', '-1', 'invalid TRANSIENT_ERROR_BUDGET_SECONDS "-1"'],
    ['AUTH_ERROR_BUDGET_SECONDS', '2592001', 'invalid AUTH_ERROR_BUDGET_SECONDS "2592001"'],
    ['CHECKS_PER_EXECUTION', '2001', 'invalid CHECKS_PER_EXECUTION "2001"'],
    ['STUCK_AFTER_HOURS', '0', 'invalid STUCK_AFTER_HOURS "0"'],
    ['DISMISS_ON_TIMEOUT', 'maybe', 'invalid DISMISS_ON_TIMEOUT "maybe"'],
    ['HTTP_TIMEOUT_MS', '10', 'invalid HTTP_TIMEOUT_MS "10"'],
    ['ALLOW_LOOPBACK', 'yes', 'invalid ALLOW_LOOPBACK "yes": expected "true" or "false"'],
    ['API_URL', 'ftp://example.org', 'invalid API_URL "ftp://example.org"'],
    ['API_URL', 'https://user:pw@eodatahub.org.uk', 'invalid API_URL'],
    ['TOKEN_SECRET_NAME', 'has space', 'invalid TOKEN_SECRET_NAME "has space"'],
    ['ALLOWED_HOSTS', 'eodatahub.org.uk,*', 'invalid ALLOWED_HOSTS entry "*"'],
  ])('names %s when it is %j', (name, value, message) => {
    const attempt = () => readMonitorConfig({ [name]: value });

    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow(message);
  });

  it('rejects an initial interval above the maximum', () => {
    expect(() => readMonitorConfig({ POLL_INITIAL_SECONDS: '60', POLL_MAX_SECONDS: '30' })).toThrow(
      'invalid POLL_INITIAL_SECONDS "60": expected at most POLL_MAX_SECONDS (30)',
    );
  });

  it('rejects an API host missing from ALLOWED_HOSTS', () => {
    expect(() => readMonitorConfig({ ALLOWED_HOSTS: '*.eodatahub-workspaces.org.uk' })).toThrow(
      'API_URL "https://eodatahub.org.uk" is not reachable under ALLOWED_HOSTS and ALLOW_LOOPBACK',
    );
  });

  it('rejects an http API URL without ALLOW_LOOPBACK', () => {
    expect(() => readMonitorConfig({ API_URL: 'http://127.0.0.1:8080' })).toThrow(ConfigurationError);
  });

  it('treats empty variables as unset', () => {
    expect(
      readMonitorConfig({ POLL_MAX_SECONDS: '', TOKEN_SECRET_NAME: ' ' }).defaultOptions.pollMaxSeconds,
    ).toBe(900);
  });
});

describe('validateMonitorInput', () => {
  it('builds the job context with the default status URL', () => {
    expect(validateMonitorInput(event({ jobId, workspace: 'demo-ws' }), config)).toEqual({
      job: {
        jobId,
        workspace: 'demo-ws',
        statusUrl: `https://eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/${jobId}`,
        options: config.defaultOptions,
        monitorStartedAt: startTime,
        generation: 0,
      },
      check: null,
      plan: null,
      archive: null,
    });
  });

  it('keeps a valid status URL and option overrides', () => {
    const statusUrl = `https://staging.eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/${jobId}`;
    const staging = readMonitorConfig({ ALLOWED_HOSTS: 'eodatahub.org.uk,staging.eodatahub.org.uk' });

    const state = validateMonitorInput(
      event({ jobId, workspace: 'demo-ws', statusUrl, options: { pollMaxSeconds: 60 } }),
      staging,
    );

    expect(state.job.statusUrl).toBe(statusUrl);
    expect(state.job.options.pollMaxSeconds).toBe(60);
    expect(state.job.options.pollInitialSeconds).toBe(15);
  });

  it('continues a carried monitor', () => {
    const state = validateMonitorInput(
      event({
        jobId,
        workspace: 'demo-ws',
        carry: { monitorStartedAt: '2026-11-01T00:00:00.000Z', generation: 2 },
      }),
      config,
    );

    expect(state.job.monitorStartedAt).toBe('2026-11-01T00:00:00.000Z');
    expect(state.job.generation).toBe(2);
    expect(state.check).toBeNull();
  });

  it('restores the carried check as the previous check', () => {
    const check = {
      status: 'running',
      rawStatus: 'running',
      progress: 5,
      message: 'starting execution',
      processId: 'ndvi-calc',
      created: '2026-11-01T00:00:00.000Z',
      started: null,
      finished: null,
      updated: null,
      resultsUrl: null,
      logUrls: 0,
      checks: 1000,
      consecutiveTransientErrors: 0,
      consecutiveAuthErrors: 3,
      lastError: 'token rejected or job not found (HTTP 403)',
      lastCheckedAt: '2026-11-20T00:00:00.000Z',
      terminalSeenAt: null,
      next: 'continue',
      giveUpReason: null,
      nextCheckSeconds: 300,
      warningsSent: ['token_rejected'],
    };
    const state = validateMonitorInput(
      event({
        jobId,
        workspace: 'demo-ws',
        options: { checksPerExecution: 500 },
        carry: { monitorStartedAt: '2026-11-01T00:00:00.000Z', generation: 2, check },
      }),
      config,
    );

    expect(state.check).toEqual(check);
    expect(state.job.options.checksPerExecution).toBe(500);
  });

  it.each([
    ['a missing jobId', { workspace: 'demo-ws' }, 'jobId'],
    ['a jobId with a slash', { jobId: '../etc', workspace: 'demo-ws' }, 'jobId'],
    ['a missing workspace', { jobId }, 'workspace'],
    ['an uppercase workspace', { jobId, workspace: 'Demo' }, 'workspace'],
    [
      'a status URL on another host',
      { jobId, workspace: 'demo-ws', statusUrl: `https://example.org/jobs/${jobId}` },
      'statusUrl',
    ],
    ['an unknown option', { jobId, workspace: 'demo-ws', options: { pollEvery: 5 } }, 'options.pollEvery'],
    [
      'an option out of range',
      { jobId, workspace: 'demo-ws', options: { pollMaxSeconds: 0 } },
      'options.pollMaxSeconds',
    ],
    ['a broken carry', { jobId, workspace: 'demo-ws', carry: { generation: 1 } }, 'carry.monitorStartedAt'],
    ['a string input', 'jobId=abc', 'input'],
    ['an array input', [jobId], 'input'],
    ['a null input', null, 'input'],
  ])('rejects %s', (_case, input, field) => {
    let caught: unknown;
    try {
      validateMonitorInput(event(input), config);
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(InvalidInputError);
    expect((caught as InvalidInputError).name).toBe('InvalidInputError');
    expect((caught as InvalidInputError).field).toBe(field);
  });

  it('names the status URL host and the allowed hosts', () => {
    expect(() =>
      validateMonitorInput(
        event({ jobId, workspace: 'demo-ws', statusUrl: `https://example.org/jobs/${jobId}` }),
        config,
      ),
    ).toThrow(
      'host example.org is not allowed: allowed hosts are eodatahub.org.uk, *.eodatahub-workspaces.org.uk',
    );
  });

  it('escapes control characters in the reported value', () => {
    expect(() =>
      validateMonitorInput(event({ jobId: 'abc\u001b[31m', workspace: 'demo-ws' }), config),
    ).toThrow('invalid jobId "abc\\u001b[31m"');
  });

  it('rejects an execution start time that is not a date', () => {
    expect(() =>
      validateMonitorInput(
        { input: { jobId, workspace: 'demo-ws' }, executionName: jobId, executionStartTime: 'x' },
        config,
      ),
    ).toThrow('invalid executionStartTime "x"');
  });
});

describe('createValidateInputHandler', () => {
  it('returns the monitor state and logs the job', async () => {
    const logger = fakeLogger();
    const metrics = { addMetric: vi.fn() };
    const validate = createValidateInputHandler({ config, logger, metrics });

    const state = await validate(event({ jobId, workspace: 'demo-ws' }));

    expect(state.job.jobId).toBe(jobId);
    expect(metrics.addMetric).toHaveBeenCalledWith('monitorsStarted', 'Count', 1);
    expect(logger.appendKeys).toHaveBeenCalledWith({ execution: jobId });
    expect(logger.info).toHaveBeenCalledWith('input validated', {
      job_id: jobId,
      workspace: 'demo-ws',
      generation: 0,
    });
    expect(logger.removeKeys).toHaveBeenCalledWith(['execution']);
  });

  it('warns about unknown top-level fields', async () => {
    const logger = fakeLogger();
    const validate = createValidateInputHandler({ config, logger });

    await validate(event({ jobId, workspace: 'demo-ws', jobid: 'typo' }));

    expect(logger.warn).toHaveBeenCalledWith('ignoring unknown input fields', { fields: ['jobid'] });
  });

  it('logs and rethrows invalid input', async () => {
    const logger = fakeLogger();
    const metrics = { addMetric: vi.fn() };
    const validate = createValidateInputHandler({ config, logger, metrics });

    await expect(validate(event({ jobId: '', workspace: 'demo-ws' }))).rejects.toThrow(InvalidInputError);
    expect(metrics.addMetric).toHaveBeenCalledWith('invalidInputs', 'Count', 1);
    expect(logger.warn).toHaveBeenCalledWith('invalid input', expect.objectContaining({ field: 'jobId' }));
    expect(logger.removeKeys).toHaveBeenCalledWith(['execution']);
  });
});

describe('handler', () => {
  const context = {
    functionName: 'validate-input',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-2:123456789012:function:validate-input',
    memoryLimitInMB: '256',
    awsRequestId: 'request-1',
    logGroupName: '/aws/lambda/validate-input',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  } as Context;

  it('reads the configuration on invocation and names a bad variable', async () => {
    vi.stubEnv('POLL_MAX_SECONDS', 'often');

    await expect(handler(event({ jobId, workspace: 'demo-ws' }), context)).rejects.toThrow(
      'invalid POLL_MAX_SECONDS "often"',
    );
  });

  it('validates input through the middy wrapper', async () => {
    vi.stubEnv('POLL_MAX_SECONDS', '120');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');

    const state = await handler(event({ jobId, workspace: 'demo-ws' }), context);

    expect(state.job.options.pollMaxSeconds).toBe(120);
  });
});
