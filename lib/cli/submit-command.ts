import { DescribeStateMachineCommand } from '@aws-sdk/client-sfn';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { createGuardedLookup, readBodyText } from '../../lambdas/adapters/http';
import { tokenSourceFromConfig } from '../../lambdas/adapters/token';
import { type Env, type MonitorConfig, readMonitorConfig } from '../../lambdas/core/config';
import { ConfigurationError, TransientHttpError, UrlNotAllowedError } from '../../lambdas/core/errors';
import { assertUrlAllowed, describeValue, hostLabelOf, validateJobId } from '../../lambdas/core/validation';
import {
  type AwsDependencies,
  callAws,
  defaultAwsDependencies,
  findDeployedMonitor,
  type StackOptions,
} from './aws';
import { ExitCode, UsageError } from './errors';
import { readJsonFile } from './json-input';
import { messageForFlags } from './preflight';
import type { CommandIo } from './run-command';
import {
  buildMonitorInput,
  checkJobOptions,
  checkWorkspace,
  type JobOptionFlags,
  reportStart,
  startMonitor,
} from './start-command';

/** Options of `eodh-monitor submit`, as commander parses them. */
export interface SubmitCommandOptions extends StackOptions, JobOptionFlags {
  workspace?: string;
  inputs?: string;
  apiUrl?: string;
  allowedHost?: string[];
  allowLoopback?: boolean;
}

/** A submitted job, as the execute response identifies it. */
export interface SubmittedExecution {
  jobId: string;
  /** The `Location` header resolved against the request URL, or null when absent. */
  statusUrl: string | null;
}

// OGC process IDs are path segments; EODH's are names such as "ndvi-calc".
const processIdPattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Execute responses are status documents of a few KB. */
const maxResponseBytes = 1_048_576;

/**
 * Executes a workflow on EODH, then starts its deployed monitor. Everything that can be checked
 * locally (arguments, the input file, configuration, the stack) is checked before the execute
 * request, so a mistake never leaves a job running without a monitor.
 */
export async function submitCommand(
  processId: string,
  options: SubmitCommandOptions,
  io: CommandIo,
  deps: AwsDependencies = defaultAwsDependencies,
): Promise<number> {
  if (!processIdPattern.test(processId) || processId.includes('..')) {
    throw new UsageError(
      `invalid <processId> ${describeValue(processId)}: expected 1-128 letters, digits, ".", "_" or "-" starting with a letter or digit`,
    );
  }
  const workspace = checkWorkspace(options.workspace);
  checkJobOptions(options);
  if (options.inputs === undefined) {
    throw new UsageError(
      'missing --inputs: give a JSON file with the execute request, such as {"inputs": {...}}',
    );
  }
  const body = checkExecuteRequest(await readJsonFile(options.inputs, '--inputs'), options.inputs);
  const config = readSubmitConfig(options, io.env);
  const monitor = await findDeployedMonitor(options, io.env, deps);
  // An ARN from a flag or the environment is only checked for its form. Reading the state
  // machine proves the credentials and the ARN before the job exists on EODH.
  await callAws('states:DescribeStateMachine', monitor.region, () =>
    monitor.sfn.send(new DescribeStateMachineCommand({ stateMachineArn: monitor.stateMachineArn })),
  );

  let submitted: SubmittedExecution;
  try {
    submitted = await executeProcess(config, io.env, workspace, processId, body);
  } catch (error) {
    if (error instanceof SubmitError) {
      io.stderr.write(`error: ${error.message}\n`);
      return ExitCode.jobNotSucceeded;
    }
    throw error;
  }
  io.stdout.write(`submitted process ${processId} in workspace ${workspace} as job ${submitted.jobId}\n`);
  if (submitted.statusUrl !== null) io.stdout.write(`status:    ${submitted.statusUrl}\n`);

  const input = buildMonitorInput(submitted.jobId, workspace, options);
  try {
    return reportStart(io, input, await startMonitor(monitor, input, { force: false }));
  } catch (error) {
    io.stderr.write(
      `job ${submitted.jobId} is running on EODH but its monitor was not started; start it with:\n` +
        `  eodh-monitor start ${submitted.jobId} --workspace ${workspace}${stackFlags(options)}\n`,
    );
    throw error;
  }
}

/** The execute request failed on EODH or on the way there; exit code 1. */
class SubmitError extends Error {
  override readonly name = 'SubmitError';
}

/** Checks that the file contains an execute request body: a JSON object with an `inputs` object. */
function checkExecuteRequest(value: unknown, path: string): Record<string, unknown> {
  const isObject = (candidate: unknown): candidate is Record<string, unknown> =>
    typeof candidate === 'object' && candidate !== null && !Array.isArray(candidate);
  if (!isObject(value) || !isObject(value.inputs)) {
    throw new UsageError(
      `--inputs file ${path} must hold the execute request: a JSON object with an "inputs" object, such as {"inputs": {"stac_items": ["..."]}}`,
    );
  }
  return value;
}

function readSubmitConfig(options: SubmitCommandOptions, processEnv: Env): MonitorConfig {
  const env: Env = {
    API_URL: options.apiUrl ?? processEnv.API_URL,
    ALLOWED_HOSTS:
      options.allowedHost === undefined ? processEnv.ALLOWED_HOSTS : options.allowedHost.join(','),
    ALLOW_LOOPBACK: options.allowLoopback ? 'true' : processEnv.ALLOW_LOOPBACK,
    TOKEN_SECRET_NAME: processEnv.TOKEN_SECRET_NAME,
    HTTP_TIMEOUT_MS: processEnv.HTTP_TIMEOUT_MS,
  };
  try {
    return readMonitorConfig(env);
  } catch (error) {
    if (error instanceof ConfigurationError)
      throw new UsageError(messageForFlags(error.message), { cause: error });
    throw error;
  }
}

/** Repeats the flags that found the stack, so the printed start command finds the same one. */
function stackFlags(options: StackOptions): string {
  const flags: string[] = [];
  if (options.stateMachineArn !== undefined) flags.push(`--state-machine-arn ${options.stateMachineArn}`);
  if (options.stackName !== undefined) flags.push(`--stack-name ${options.stackName}`);
  if (options.region !== undefined) flags.push(`--region ${options.region}`);
  return flags.length === 0 ? '' : ` ${flags.join(' ')}`;
}

/**
 * POSTs the execute request with `Prefer: respond-async` and reads the job ID from the
 * `Location` header, else from `jobID` or `id` in the body. The URL passes the same host and
 * address rules as every monitor request, and redirects are not followed, so the token and the
 * request body never reach another host.
 */
export async function executeProcess(
  config: MonitorConfig,
  env: Env,
  workspace: string,
  processId: string,
  body: Record<string, unknown>,
): Promise<SubmittedExecution> {
  const url = new URL(
    `${config.apiUrl}/api/catalogue/stac/catalogs/user/catalogs/${encodeURIComponent(workspace)}/processes/${encodeURIComponent(processId)}/execution`,
  );
  try {
    assertUrlAllowed(url, { allowedHosts: config.allowedHosts, allowLoopback: config.allowLoopback });
  } catch (error) {
    if (error instanceof UrlNotAllowedError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
  let token: string;
  try {
    token = await tokenSourceFromConfig(config, env)();
  } catch (error) {
    if (error instanceof ConfigurationError) throw new UsageError(error.message, { cause: error });
    throw error;
  }

  const host = hostLabelOf(url);
  const agent = new Agent({
    connect: buildConnector({
      lookup: createGuardedLookup(config.allowLoopback),
      timeout: config.httpTimeoutMs,
    }),
    headersTimeout: config.httpTimeoutMs,
    bodyTimeout: config.httpTimeoutMs,
  });
  try {
    let response: Response;
    try {
      response = (await undiciFetch(url, {
        method: 'POST',
        redirect: 'manual',
        dispatcher: agent,
        signal: AbortSignal.timeout(config.httpTimeoutMs),
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          prefer: 'respond-async',
          'user-agent': 'eodh-job-monitor',
        },
        body: JSON.stringify(body),
      })) as unknown as Response;
    } catch (error) {
      throw new SubmitError(`execute request to ${host} failed: ${describeFetchFailure(error)}`, {
        cause: error,
      });
    }

    let text: string;
    try {
      text = await readBodyText(response, maxResponseBytes, host);
    } catch (error) {
      if (error instanceof TransientHttpError) throw new SubmitError(error.message, { cause: error });
      throw error;
    }
    if (response.status < 200 || response.status > 299) {
      throw rejection(response, text, host, processId, workspace);
    }
    return readSubmittedJob(response, text, url);
  } finally {
    await agent.close();
  }
}

function rejection(
  response: Response,
  text: string,
  host: string,
  processId: string,
  workspace: string,
): Error {
  const status = response.status;
  const problem = problemSummary(text);
  const detail = problem === '' ? '' : `: ${problem}`;
  if (status >= 300 && status < 400) {
    return new SubmitError(
      `${host} returned HTTP ${status} (redirect to ${response.headers.get('location') ?? 'nowhere'}); the execute request is not sent to another address`,
    );
  }
  if (status === 401 || status === 403) {
    // EODH returns 403 both for a rejected token and for a process or workspace that does not exist.
    return new UsageError(
      `${host} rejected the execute request with HTTP ${status}${detail}: check that process ${processId} exists in workspace ${workspace} and that the token (EODH_TOKEN or the secret named by TOKEN_SECRET_NAME) is valid for it`,
    );
  }
  if (status >= 400 && status < 500) {
    return new UsageError(`${host} rejected the execute request with HTTP ${status}${detail}`);
  }
  return new SubmitError(`${host} failed the execute request with HTTP ${status}${detail}`);
}

/** Returns "title: detail" of an RFC 7807 problem document, or the start of a plain-text body. */
function problemSummary(text: string): string {
  try {
    const document = JSON.parse(text) as { title?: unknown; detail?: unknown };
    const parts = [document.title, document.detail].filter((part) => typeof part === 'string' && part !== '');
    if (parts.length > 0) return parts.join(': ').slice(0, 500);
  } catch {
    // Not JSON: the text itself is shown below.
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

function readSubmittedJob(response: Response, text: string, requestUrl: URL): SubmittedExecution {
  const location = response.headers.get('location');
  let statusUrl: string | null = null;
  let jobId: string | null = null;
  if (location !== null && URL.canParse(location, requestUrl.href)) {
    const resolved = new URL(location, requestUrl);
    statusUrl = resolved.href;
    const segment = /\/jobs\/([^/]+)\/?$/.exec(resolved.pathname)?.[1];
    if (segment !== undefined) {
      try {
        jobId = decodeURIComponent(segment);
      } catch {
        jobId = segment;
      }
    }
  }
  if (jobId === null) {
    try {
      const document = JSON.parse(text) as { jobID?: unknown; id?: unknown };
      const candidate = document.jobID ?? document.id;
      if (typeof candidate === 'string') jobId = candidate;
    } catch {
      // No job ID in the body either; reported below.
    }
  }
  if (jobId === null) {
    throw new SubmitError(
      `the execute response (HTTP ${response.status}) has no job ID in its Location header or body; look for the job in the EODH workspace and start its monitor with "eodh-monitor start"`,
    );
  }
  try {
    validateJobId(jobId);
  } catch {
    throw new SubmitError(
      `the execute response names job ${describeValue(jobId)}, which is not a valid job ID`,
    );
  }
  return { jobId, statusUrl };
}

function describeFetchFailure(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current instanceof Error; depth += 1) {
    if (current instanceof UrlNotAllowedError) return current.message;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (current.name === 'TimeoutError') return 'timed out';
    current = current.cause;
  }
  return error instanceof Error ? error.message : String(error);
}
