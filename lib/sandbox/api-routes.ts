import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../lambdas/core/ports';
import {
  acceptedDocument,
  dismissedDocument,
  type JsonDocument,
  jobListDocument,
  problemDocument,
  resultNotReadyType,
  resultsCollection,
  type SandboxUrls,
  statusDocument,
  statusUrlOf,
} from './documents';
import { RequestBodyTooLargeError } from './errors';
import {
  type AuthState,
  jsonReply,
  type PlaceholderValues,
  pathSegments,
  type Reply,
  rawReply,
  readRequestBody,
  textReply,
  tokenIndexOf,
} from './http';
import { createJob, currentEntry, type Job, publishedLogs, takeOverride, tokenAccepted } from './jobs';
import { isTerminalStatus, type Scenario } from './scenario-schema';
import type { ResolvedContent } from './scenarios';

/** Path of a workspace's processes and jobs under the API origin, as on EODH. */
export const apiBasePath = '/api/catalogue/stac/catalogs/user/catalogs';

/** Request header that carries the ID of a scenario registered by `Sandbox.submit`. */
export const scenarioHeader = 'x-eodh-sandbox-scenario';

/** A scenario waiting for its execute request, with asset sizes already resolved. */
export interface Registration {
  scenario: Scenario;
  contents: ReadonlyMap<string, ResolvedContent>;
}

export interface ApiState {
  urls: SandboxUrls;
  clock: Clock;
  /** Every job by ID, in submission order. DELETE marks a job as dismissed and keeps it in the map. */
  jobs: Map<string, Job>;
  registrations: Map<string, Registration>;
  /** Scenario for an execute request that `submit` did not register. */
  scenarioForProcess(processId: string): Promise<Registration>;
  placeholders(job: Job): PlaceholderValues;
  /** The sandbox's own bearer token; rotated tokens derive from it. */
  token: string;
}

const forbidden = () =>
  jsonReply(403, problemDocument(403, 'Forbidden', 'Access to this resource is forbidden.'), {
    'content-type': 'application/problem+json',
  });

const notFound = (detail: string) => jsonReply(404, problemDocument(404, 'Not Found', detail));

const badRequest = (detail: string) => jsonReply(400, problemDocument(400, 'InvalidParameterValue', detail));

function methodNotAllowed(allowed: string): Reply {
  return jsonReply(405, problemDocument(405, 'Method Not Allowed', `Use ${allowed} on this resource.`), {
    allow: allowed,
  });
}

/**
 * Routes one API request. Authentication is checked first, as at EODH's gateway: a missing token
 * gets 401 and a wrong token 403. A job that does not exist also gets 403, because EODH never
 * returns 404 for a job.
 */
export async function routeApiRequest(
  state: ApiState,
  request: IncomingMessage,
  auth: AuthState,
): Promise<Reply> {
  if (auth === 'none') {
    return jsonReply(401, problemDocument(401, 'Unauthorized', 'A bearer token is required.'), {
      'content-type': 'application/problem+json',
      'www-authenticate': 'Bearer',
    });
  }
  if (auth === 'invalid') {
    return forbidden();
  }

  const url = new URL(request.url ?? '/', state.urls.apiUrl);
  const segments = pathSegments(url.pathname);
  if (segments === null) {
    return badRequest('The request path is not valid percent-encoding.');
  }
  const prefix = pathSegments(apiBasePath) ?? [];
  if (!prefix.every((segment, index) => segments[index] === segment) || segments.length <= prefix.length) {
    return notFound(`No resource at ${url.pathname}.`);
  }
  if (segments[prefix.length] !== state.urls.workspace) {
    return forbidden();
  }

  const rest = segments.slice(prefix.length + 1);
  const method = request.method ?? 'GET';
  const [collection, id, leaf] = rest;

  if (collection === 'processes' && id !== undefined && leaf === 'execution' && rest.length === 3) {
    return method === 'POST' ? execute(state, request, id) : methodNotAllowed('POST');
  }
  if (collection !== 'jobs') {
    return notFound(`No resource at ${url.pathname}.`);
  }
  if (id === undefined) {
    return method === 'GET' || method === 'HEAD' ? listJobs(state, url) : methodNotAllowed('GET');
  }
  if (rest.length > 3) {
    return notFound(`No resource at ${url.pathname}.`);
  }

  const job = state.jobs.get(id);
  if (job === undefined || job.dismissedAt !== null) {
    return forbidden();
  }
  // A rotated token works only while it is valid for this job, and EODH returns 403 for an expired one.
  const tokenIndex = tokenIndexOf(request.headers.authorization, state.token);
  if (tokenIndex === null || !tokenAccepted(job, tokenIndex, state.clock.now())) {
    return forbidden();
  }
  if (leaf === undefined) {
    if (method === 'DELETE') {
      return dismiss(state, job);
    }
    return method === 'GET' || method === 'HEAD' ? jobStatus(state, job) : methodNotAllowed('GET, DELETE');
  }
  if (method !== 'GET' && method !== 'HEAD') {
    return methodNotAllowed('GET');
  }
  if (leaf === 'results') {
    return jobResults(state, job);
  }
  if (leaf.endsWith('.log')) {
    return jobLog(state, job, leaf);
  }
  return notFound(`No resource at ${url.pathname}.`);
}

async function execute(state: ApiState, request: IncomingMessage, processId: string): Promise<Reply> {
  let text: string;
  try {
    text = await readRequestBody(request);
  } catch (error) {
    if (error instanceof RequestBodyTooLargeError) {
      return jsonReply(413, problemDocument(413, 'Payload Too Large', error.message));
    }
    throw error;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return badRequest('The request body is not valid JSON.');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return badRequest('The request body must be a JSON object with "inputs".');
  }
  const inputs = (body as JsonDocument).inputs;
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
    return badRequest('"inputs" must be a JSON object.');
  }

  const registrationId = request.headers[scenarioHeader];
  const registered = typeof registrationId === 'string' ? state.registrations.get(registrationId) : undefined;
  if (typeof registrationId === 'string') {
    state.registrations.delete(registrationId);
  }
  const { scenario, contents } = registered ?? (await state.scenarioForProcess(processId));

  const job = createJob(randomUUID(), processId, scenario, contents, state.clock.now());
  state.jobs.set(job.id, job);
  return jsonReply(201, acceptedDocument(job, state.urls), {
    location: statusUrlOf(state.urls, job.id),
    'preference-applied': 'respond-async',
  });
}

function listJobs(state: ApiState, url: URL): Reply {
  const limit = integerParameter(url, 'limit', 10, 1, 1000);
  const skip = integerParameter(url, 'skip', 0, 0, Number.MAX_SAFE_INTEGER);
  if (limit === null || skip === null) {
    return badRequest('"limit" must be a whole number from 1 to 1000 and "skip" a whole number from 0.');
  }
  const visible = [...state.jobs.values()].filter((job) => job.dismissedAt === null);
  return jsonReply(200, jobListDocument(visible, state.urls, state.clock.now(), limit, skip));
}

function integerParameter(url: URL, name: string, fallback: number, min: number, max: number): number | null {
  const value = url.searchParams.get(name);
  if (value === null || value === '') {
    return fallback;
  }
  const number = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  return Number.isSafeInteger(number) && number >= min && number <= max ? number : null;
}

function jobStatus(state: ApiState, job: Job): Reply {
  const now = state.clock.now();
  const override = takeOverride(job, 'status', now);
  if (override !== undefined) {
    return rawReply(override, state.placeholders(job), now);
  }
  return jsonReply(200, statusDocument(job, state.urls, now));
}

function dismiss(state: ApiState, job: Job): Reply {
  job.dismissedAt = state.clock.now();
  return jsonReply(200, dismissedDocument(job, state.urls, job.dismissedAt));
}

/** Dismissal deletes the result document and the logs, so their URLs return 403 afterwards. */
function isDismissed(job: Job, now: number): boolean {
  return currentEntry(job, now)?.status === 'dismissed';
}

function jobResults(state: ApiState, job: Job): Reply {
  const now = state.clock.now();
  const override = takeOverride(job, 'results', now);
  if (override !== undefined) {
    return rawReply(override, state.placeholders(job));
  }
  if (isDismissed(job, now)) {
    return forbidden();
  }
  const entry = currentEntry(job, now);
  if (entry === null || !isTerminalStatus(entry.status)) {
    return jsonReply(
      404,
      problemDocument(404, 'ResultNotReady', 'The job is still running.', resultNotReadyType),
    );
  }
  if (entry.status === 'failed' || job.scenario.results === 'none') {
    return jsonReply(
      500,
      problemDocument(500, 'NoApplicableCode', 'The service failed to execute.', 'NoApplicableCode'),
    );
  }
  return jsonReply(200, resultsCollection(job, state.urls));
}

function jobLog(state: ApiState, job: Job, name: string): Reply {
  const now = state.clock.now();
  const override = takeOverride(job, `log:${name}`, now);
  if (override !== undefined) {
    return rawReply(override, state.placeholders(job));
  }
  if (isDismissed(job, now)) {
    return forbidden();
  }
  const log = job.scenario.logs.find((candidate) => candidate.name === name);
  if (log === undefined || !publishedLogs(job, now).includes(name)) {
    return notFound(`No log ${name} for job ${job.id}.`);
  }
  return textReply(200, log.text);
}
