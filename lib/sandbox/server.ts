import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, BlockList, isIPv6 } from 'node:net';
import { type Clock, systemClock } from '../../lambdas/core/ports';
import { apiBasePath, type Registration, routeApiRequest, scenarioHeader } from './api-routes';
import { placeholderValues, problemDocument, type SandboxUrls } from './documents';
import { SandboxError, SandboxOptionsError } from './errors';
import { routeFilesRequest } from './files-routes';
import {
  type AuthState,
  classifyAuth,
  jsonReply,
  type PlaceholderValues,
  type Reply,
  rotatedToken,
  textReply,
  writeReply,
} from './http';
import { type Job, storedTokenIndex } from './jobs';
import type { Scenario, ScenarioInput } from './scenario-schema';
import { listScenarios, loadScenario, parseScenario, resolveAssetContents } from './scenarios';

export interface SandboxOptions {
  /** Listening address; only loopback addresses are accepted. @default '127.0.0.1' */
  host?: string;
  /** @default 0, any free port */
  apiPort?: number;
  /** @default 0, any free port */
  filesPort?: number;
  /** @default 0, any free port */
  foreignPort?: number;
  /** Bearer token the API and files servers require. @default a random string */
  token?: string;
  /** @default 'demo-ws' */
  workspace?: string;
  /** Scenario times count from submission on this clock. @default the system clock */
  clock?: Clock;
  /** Read for scenario sizes given as `{ "env": NAME, "default": BYTES }`. @default process.env */
  env?: Record<string, string | undefined>;
}

/** One request any of the three servers received. */
export interface SandboxRequest {
  server: 'api' | 'files' | 'foreign';
  method: string;
  /** Request target as sent, with the query string. */
  path: string;
  auth: AuthState;
  /** Status code sent, or 0 when a `hang` override never responded. */
  status: number;
  /** When the request arrived, in milliseconds since the epoch on the sandbox clock. */
  at: number;
}

export interface SubmittedJob {
  jobId: string;
  processId: string;
  statusUrl: string;
  scenario: string;
}

export interface Sandbox {
  /** Origin of the API server, such as `http://127.0.0.1:40123`. */
  readonly apiUrl: string;
  /** `apiUrl` + `/api/catalogue/stac/catalogs/user/catalogs/` + workspace. */
  readonly baseUrl: string;
  /** Origin of the workspace file host stand-in. */
  readonly filesOrigin: string;
  /** Origin of a host the token must never reach; the files server redirects sign-ins there. */
  readonly foreignOrigin: string;
  readonly workspace: string;
  readonly token: string;
  /** `host:port` of the API and files servers, not of the foreign server. */
  readonly allowedHosts: string[];
  readonly requests: readonly SandboxRequest[];
  /** Registers the scenario and executes its process over HTTP like a real client (POST execute with the token). */
  submit(scenario: Scenario | ScenarioInput | string): Promise<SubmittedJob>;
  /**
   * Returns the token in a job's secret now: the sandbox's own token, or for a scenario with
   * `tokens` the latest one stored. A monitor reads it on every check, as it re-reads a secret.
   */
  currentToken(jobId: string): string;
  close(): Promise<void>;
}

const loopbackAddresses = new BlockList();
loopbackAddresses.addSubnet('127.0.0.0', 8, 'ipv4');
loopbackAddresses.addAddress('::1', 'ipv6');

/** DNS label, as EODH workspace names are part of the file host's name. */
const workspacePattern = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const signInPage = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in</title></head>
<body><h1>Sign in</h1><form method="post"><input name="username"><input name="password" type="password"><button>Sign in</button></form></body>
</html>
`;

function validateOptions(options: SandboxOptions): void {
  const host = options.host ?? '127.0.0.1';
  const family = isIPv6(host) ? 'ipv6' : 'ipv4';
  let loopback = false;
  try {
    loopback = loopbackAddresses.check(host, family);
  } catch {
    // BlockList.check raises on a string that is not an IP address, such as a host name.
  }
  if (!loopback) {
    throw new SandboxOptionsError(
      `invalid host "${host}": the sandbox listens only on loopback addresses such as 127.0.0.1 or ::1`,
    );
  }
  for (const name of ['apiPort', 'filesPort', 'foreignPort'] as const) {
    const port = options[name];
    if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) {
      throw new SandboxOptionsError(
        `invalid ${name} ${port}: expected a whole number from 0 (any free port) to 65535`,
      );
    }
  }
  if (options.token !== undefined && !/^[\x21-\x7e]+$/.test(options.token)) {
    throw new SandboxOptionsError(
      'invalid token: expected a non-empty string of printable ASCII without spaces',
    );
  }
  if (options.workspace !== undefined && !workspacePattern.test(options.workspace)) {
    throw new SandboxOptionsError(
      `invalid workspace "${options.workspace}": expected a DNS label (lowercase letters, digits and "-")`,
    );
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    // Hung requests (the `hang` override) keep their connections open; end them too.
    server.closeAllConnections();
  });
}

/**
 * Starts the EODH sandbox: an API server, a workspace file host and a foreign host, each on its
 * own loopback port. Raises `SandboxOptionsError` for invalid options.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  validateOptions(options);
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(24).toString('base64url');
  const workspace = options.workspace ?? 'demo-ws';
  const clock = options.clock ?? systemClock;
  const env = options.env ?? process.env;

  const servers = { api: createServer(), files: createServer(), foreign: createServer() };
  const ports = { api: 0, files: 0, foreign: 0 };
  try {
    ports.api = await listen(servers.api, options.apiPort ?? 0, host);
    ports.files = await listen(servers.files, options.filesPort ?? 0, host);
    ports.foreign = await listen(servers.foreign, options.foreignPort ?? 0, host);
  } catch (error) {
    await Promise.all(Object.values(servers).map(closeServer));
    throw new SandboxOptionsError(`cannot listen on ${host}: ${(error as Error).message}`, { cause: error });
  }

  const urlHost = isIPv6(host) ? `[${host}]` : host;
  const origin = (port: number) => `http://${urlHost}:${port}`;
  const urls: SandboxUrls = {
    apiUrl: origin(ports.api),
    baseUrl: `${origin(ports.api)}${apiBasePath}/${workspace}`,
    filesOrigin: origin(ports.files),
    foreignOrigin: origin(ports.foreign),
    workspace,
  };

  const requests: SandboxRequest[] = [];
  const jobs = new Map<string, Job>();
  const registrations = new Map<string, Registration>();
  const builtIns = new Map<string, Promise<Scenario>>();

  const placeholders = (job: Job): PlaceholderValues => placeholderValues(job, urls);

  /** Built-in scenario named like the process, else `demo`, for clients other than `submit`. */
  const scenarioForProcess = async (processId: string): Promise<Registration> => {
    const name = (await listScenarios()).includes(processId) ? processId : 'demo';
    let scenario = builtIns.get(name);
    if (scenario === undefined) {
      scenario = loadScenario(name);
      builtIns.set(name, scenario);
    }
    const loaded = await scenario;
    return { scenario: loaded, contents: resolveAssetContents(loaded, env) };
  };

  const apiState = { urls, clock, jobs, registrations, scenarioForProcess, placeholders, token };
  const filesState = { urls, clock, jobs, placeholders };

  const serve =
    (
      server: SandboxRequest['server'],
      route: (request: IncomingMessage, auth: AuthState) => Promise<Reply>,
    ) =>
    (request: IncomingMessage, response: ServerResponse) => {
      void handle(server, route, request, response);
    };

  const handle = async (
    server: SandboxRequest['server'],
    route: (request: IncomingMessage, auth: AuthState) => Promise<Reply>,
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<void> => {
    const auth = classifyAuth(request.headers.authorization, token);
    const at = clock.now();
    let reply: Reply;
    try {
      reply = await route(request, auth);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.error('eodh sandbox: request failed', {
        server,
        method: request.method,
        path: request.url,
        message,
      });
      reply = jsonReply(500, problemDocument(500, 'Internal Server Error', `The sandbox failed: ${message}`));
    }
    requests.push({
      server,
      method: request.method ?? 'GET',
      path: request.url ?? '/',
      auth,
      status: reply.kind === 'hang' ? 0 : reply.status,
      at,
    });
    try {
      await writeReply(request, response, reply);
    } catch (error) {
      console.error('eodh sandbox: response failed', {
        server,
        path: request.url,
        message: (error as Error).message,
      });
      response.destroy();
    }
  };

  servers.api.on(
    'request',
    serve('api', (request, auth) => routeApiRequest(apiState, request, auth)),
  );
  servers.files.on(
    'request',
    serve('files', (request, auth) => routeFilesRequest(filesState, request, auth)),
  );
  servers.foreign.on(
    'request',
    serve('foreign', async (request) => {
      const { pathname } = new URL(request.url ?? '/', urls.foreignOrigin);
      const readable = request.method === 'GET' || request.method === 'HEAD';
      return pathname === '/sign-in' && readable
        ? textReply(200, signInPage, 'text/html; charset=utf-8')
        : textReply(404, 'Not Found\n');
    }),
  );

  const submit = async (input: Scenario | ScenarioInput | string): Promise<SubmittedJob> => {
    const scenario =
      typeof input === 'string'
        ? await loadScenario(input)
        : parseScenario(input, `scenario "${input.name}"`);
    const registrationId = randomUUID();
    registrations.set(registrationId, { scenario, contents: resolveAssetContents(scenario, env) });
    try {
      const response = await fetch(
        `${urls.baseUrl}/processes/${encodeURIComponent(scenario.processId)}/execution`,
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            prefer: 'respond-async',
            [scenarioHeader]: registrationId,
          },
          body: JSON.stringify({ inputs: scenario.inputs }),
        },
      );
      const text = await response.text();
      const location = response.headers.get('location');
      if (response.status !== 201 || location === null) {
        throw new SandboxError(
          `execute request for scenario "${scenario.name}" failed: HTTP ${response.status} ${text.slice(0, 300)}`,
        );
      }
      const document = JSON.parse(text) as { jobID: string };
      return {
        jobId: document.jobID,
        processId: scenario.processId,
        statusUrl: location,
        scenario: scenario.name,
      };
    } finally {
      registrations.delete(registrationId);
    }
  };

  let closing: Promise<void> | undefined;
  return {
    apiUrl: urls.apiUrl,
    baseUrl: urls.baseUrl,
    filesOrigin: urls.filesOrigin,
    foreignOrigin: urls.foreignOrigin,
    workspace,
    token,
    allowedHosts: [`${urlHost}:${ports.api}`, `${urlHost}:${ports.files}`],
    requests,
    submit,
    currentToken: (jobId) => {
      const job = jobs.get(jobId);
      return job === undefined ? token : rotatedToken(token, storedTokenIndex(job, clock.now()));
    },
    close: () => {
      closing ??= Promise.all(Object.values(servers).map(closeServer)).then(() => undefined);
      return closing;
    },
  };
}
