import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findSyntaxErrorOffset, lineAndColumn, parseJsonText } from '../../lib/cli/json-input';
import { executionArnOf } from '../../lib/cli/monitor-executions';
import { type Sandbox, startSandbox } from '../../lib/sandbox';
import { runCli } from './support/cli';

const sfnMock = mockClient(SFNClient);
const stateMachineArn = 'arn:aws:states:eu-west-2:123456789012:stateMachine:EodhJobMonitor';
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let sandbox: Sandbox;
let workDir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ token: 'sandbox-token-7f3a' });
  workDir = await mkdtemp(join(tmpdir(), 'eodh-submit-'));
});

afterAll(async () => {
  await sandbox.close();
  await rm(workDir, { recursive: true, force: true });
});

afterEach(() => {
  sfnMock.reset();
});

async function inputsFile(name: string, text: string): Promise<string> {
  const path = join(workDir, name);
  await writeFile(path, text);
  return path;
}

function submitArgs(inputs: string, ...extra: string[]): string[] {
  return [
    'submit',
    'ndvi-calc',
    '--workspace',
    sandbox.workspace,
    '--inputs',
    inputs,
    '--api-url',
    sandbox.apiUrl,
    '--allow-loopback',
    '--state-machine-arn',
    stateMachineArn,
    ...extra,
  ];
}

const token = { EODH_TOKEN: 'sandbox-token-7f3a' };

function executeRequests() {
  return sandbox.requests.filter((request) => request.method === 'POST');
}

function mockNewMonitor() {
  sfnMock
    .on(DescribeExecutionCommand)
    .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: executionArnOf(stateMachineArn, input.name),
    startDate: new Date(),
  }));
}

describe('eodh-monitor submit', () => {
  it('executes the process and starts its monitor', async () => {
    mockNewMonitor();
    const inputs = await inputsFile(
      'ndvi.json',
      JSON.stringify({ inputs: { stac_items: ['https://example.org/items/S2B_MSIL2A_20260601'] } }),
    );
    const before = executeRequests().length;

    const result = await runCli(submitArgs(inputs, '--poll-max-seconds', '120'), { env: token });

    expect(result.code).toBe(0);
    const jobId = /as job (\S+)\n/.exec(result.stdout)?.[1] ?? '';
    expect(jobId).toMatch(uuidPattern);
    expect(result.stdout).toContain(`submitted process ndvi-calc in workspace demo-ws as job ${jobId}\n`);
    expect(result.stdout).toContain(
      `status:    ${sandbox.apiUrl}/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/${jobId}\n`,
    );
    expect(result.stdout).toContain(`started monitoring job ${jobId} in workspace demo-ws\n`);
    const posts = executeRequests().slice(before);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({
      server: 'api',
      path: '/api/catalogue/stac/catalogs/user/catalogs/demo-ws/processes/ndvi-calc/execution',
      auth: 'valid',
      status: 201,
    });
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn,
      name: jobId,
      input: JSON.stringify({ jobId, workspace: 'demo-ws', options: { pollMaxSeconds: 120 } }),
    });
  });

  it('rejects invalid JSON with its line and column before any request', async () => {
    const inputs = await inputsFile(
      'broken.json',
      '{\n  "inputs": {\n    "aoi": "POLYGON((...))",\n  }\n}\n',
    );
    const before = sandbox.requests.length;

    const result = await runCli(submitArgs(inputs), { env: token });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `error: invalid JSON in --inputs file ${inputs} at line 4, column 3: Expected double-quoted property name`,
    );
    expect(sandbox.requests.length).toBe(before);
    expect(sfnMock.calls()).toHaveLength(0);
  });

  it('locates an unexpected token that JSON.parse gives no position for', async () => {
    const inputs = await inputsFile('token.json', '{"inputs": {"cloud_cover": tru}}');

    const result = await runCli(submitArgs(inputs), { env: token });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('at line 1, column 31: Unexpected token');
    expect(result.stderr).not.toContain('is not valid JSON');
  });

  it('rejects a file without an inputs object', async () => {
    const inputs = await inputsFile('bare.json', '{"stac_items": []}');

    const result = await runCli(submitArgs(inputs), { env: token });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('must hold the execute request: a JSON object with an "inputs" object');
  });

  it('rejects a missing file', async () => {
    const result = await runCli(submitArgs(join(workDir, 'absent.json')), { env: token });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot be read (ENOENT)');
  });

  it('exits 2 when EODH rejects the token, without starting a monitor', async () => {
    mockNewMonitor();
    const inputs = await inputsFile('ok.json', '{"inputs": {}}');

    const result = await runCli(submitArgs(inputs), { env: { EODH_TOKEN: 'expired-token' } });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('rejected the execute request with HTTP 403: Forbidden');
    expect(result.stderr).toContain('check that process ndvi-calc exists in workspace demo-ws');
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('names the token settings when no token is set', async () => {
    const inputs = await inputsFile('ok.json', '{"inputs": {}}');
    const before = sandbox.requests.length;

    const result = await runCli(submitArgs(inputs), { env: {} });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('EODH_TOKEN is not set');
    expect(sandbox.requests.length).toBe(before);
  });

  it('refuses plain http without --allow-loopback', async () => {
    const inputs = await inputsFile('ok.json', '{"inputs": {}}');
    const args = submitArgs(inputs).filter((arg) => arg !== '--allow-loopback');
    const before = sandbox.requests.length;

    const result = await runCli(args, { env: token });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--api-url');
    expect(result.stderr).toContain('--allow-loopback');
    expect(sandbox.requests.length).toBe(before);
  });

  it('checks the stack before executing', async () => {
    const inputs = await inputsFile('ok.json', '{"inputs": {}}');
    const args = submitArgs(inputs).slice(0, -2);
    const before = sandbox.requests.length;

    const result = await runCli(args, { env: token });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no AWS region to look up stack EodhJobMonitor');
    expect(sandbox.requests.length).toBe(before);
  });

  it('checks the state machine before the execute request', async () => {
    sfnMock
      .on(DescribeStateMachineCommand)
      .rejects(
        Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist' }),
      );
    const inputs = await inputsFile('ok.json', '{"inputs": {}}');
    const before = sandbox.requests.length;

    const result = await runCli(submitArgs(inputs), { env: token });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('StateMachineDoesNotExist');
    expect(sandbox.requests.length).toBe(before);
    expect(sfnMock).toHaveReceivedCommandWith(DescribeStateMachineCommand, { stateMachineArn });
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('tells how to start the monitor when starting fails', async () => {
    sfnMock
      .on(DescribeExecutionCommand)
      .rejects(new ExecutionDoesNotExist({ message: 'Execution Does Not Exist', $metadata: {} }));
    sfnMock
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    const inputs = await inputsFile('ok.json', '{"inputs": {}}');

    const result = await runCli(submitArgs(inputs), { env: token });

    expect(result.code).toBe(1);
    const jobId = /as job (\S+)\n/.exec(result.stdout)?.[1] ?? '';
    expect(result.stderr).toContain(`job ${jobId} is running on EODH but its monitor was not started`);
    expect(result.stderr).toContain(
      `  eodh-monitor start ${jobId} --workspace demo-ws --state-machine-arn ${stateMachineArn}\n`,
    );
    expect(result.stderr).toContain('error: states:StartExecution failed in eu-west-2: ThrottlingException');
  });

  it.each([
    [
      ['submit', 'ndvi/calc', '--workspace', 'demo-ws', '--inputs', 'x.json'],
      'invalid <processId> "ndvi/calc"',
    ],
    [['submit', 'ndvi-calc', '--inputs', 'x.json'], 'missing --workspace'],
    [['submit', 'ndvi-calc', '--workspace', 'demo-ws'], 'missing --inputs'],
  ])('rejects %j before any request', async (args, expected) => {
    const before = sandbox.requests.length;

    const result = await runCli(args, { env: token });

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(expected);
    expect(sandbox.requests.length).toBe(before);
  });
});

describe('parseJsonText', () => {
  it('ignores a byte order mark', () => {
    expect(parseJsonText('\uFEFF{"inputs": {}}', 'file')).toEqual({ inputs: {} });
  });

  it('reports the end of a truncated file', () => {
    expect(() => parseJsonText('{"inputs": {"a": 1}', 'file')).toThrow(
      'invalid JSON in file at line 1, column 20: Expected',
    );
  });
});

describe('findSyntaxErrorOffset', () => {
  it.each([
    ['{"a": 1}', null],
    ['[1, -2.5e3, "x\\u00e9", true, false, null]', null],
    ['{"a": 01}', 7],
    ['{"a": "tab\there"}', 10],
    ['{"a": "\\x"}', 8],
    ['[1,]', 3],
    ['{} {}', 3],
    ['', 0],
    ['"open', 5],
  ])('finds the error in %j', (text, expected) => {
    expect(findSyntaxErrorOffset(text)).toBe(expected);
  });

  it('counts columns in code points', () => {
    const text = '{"name": "Zürich 🌍", oops}';

    expect(lineAndColumn(text, text.indexOf('oops'))).toBe('line 1, column 22');
  });
});
