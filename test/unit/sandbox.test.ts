import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Sandbox, type SubmittedJob, startSandbox } from '../../lib/sandbox';

const submittedAt = Date.parse('2026-11-30T09:12:04.311Z');
const resultsRel = 'http://www.opengis.net/def/rel/ogc/1.0/results';
const successMessage = 'ZOO-Kernel successfully run your service!';

interface Link {
  rel: string;
  type?: string;
  title?: string;
  href: string;
}

interface StatusDocument {
  id: string;
  jobID: string;
  type: string;
  processID: string;
  status: string;
  message: string;
  progress?: number;
  created: string;
  started: string;
  updated: string;
  finished?: string;
  links: Link[];
}

let now = submittedAt;
const clock = { now: () => now };
let sandbox: Sandbox;

beforeEach(async () => {
  now = submittedAt;
  sandbox = await startSandbox({ clock, token: 'test-token' });
});

afterEach(async () => {
  await sandbox.close();
});

function at(seconds: number): void {
  now = submittedAt + seconds * 1000;
}

function get(url: string, token: string | null = sandbox.token, method = 'GET'): Promise<Response> {
  return fetch(url, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
}

async function status(job: SubmittedJob): Promise<StatusDocument> {
  const response = await get(job.statusUrl);
  expect(response.status).toBe(200);
  return (await response.json()) as StatusDocument;
}

function rels(document: StatusDocument): string[] {
  return document.links.map((link) => link.rel);
}

function logTitles(document: StatusDocument): string[] {
  return document.links.filter((link) => link.rel === 'related').map((link) => link.title ?? '');
}

describe('sandbox execute', () => {
  it('answers 201 with location and the accepted document', async () => {
    const response = await fetch(`${sandbox.baseUrl}/processes/ndvi-calc/execution`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer test-token',
        'content-type': 'application/json',
        prefer: 'respond-async',
      },
      body: JSON.stringify({ inputs: { scene: 'S2B_MSIL2A_20260601' } }),
    });

    expect(response.status).toBe(201);
    expect(response.headers.get('preference-applied')).toBe('respond-async');
    const document = (await response.json()) as StatusDocument;
    expect(document.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(document.jobID).toBe(document.id);
    expect(response.headers.get('location')).toBe(`${sandbox.baseUrl}/jobs/${document.id}`);
    expect(document).toMatchObject({
      type: 'process',
      processID: 'ndvi-calc',
      status: 'running',
      progress: 0,
      message: 'ZOO-Kernel accepted to run your service!',
      created: '2026-11-30T09:12:04.311Z',
      started: '2026-11-30T09:12:04.311Z',
      updated: '2026-11-30T09:12:04.311Z',
    });
    expect(document.links).toEqual([
      {
        title: 'Status location',
        rel: 'monitor',
        type: 'application/json',
        href: `${sandbox.baseUrl}/jobs/${document.id}`,
      },
    ]);
  });

  it('submit returns the job and records an authenticated POST', async () => {
    const job = await sandbox.submit('demo');

    expect(job.processId).toBe('ndvi-calc');
    expect(job.scenario).toBe('demo');
    expect(job.statusUrl).toBe(`${sandbox.baseUrl}/jobs/${job.jobId}`);
    expect(sandbox.requests).toEqual([
      {
        server: 'api',
        method: 'POST',
        path: '/api/catalogue/stac/catalogs/user/catalogs/demo-ws/processes/ndvi-calc/execution',
        auth: 'valid',
        status: 201,
        at: submittedAt,
      },
    ]);
  });

  it('picks the built-in scenario named like the process', async () => {
    const response = await fetch(`${sandbox.baseUrl}/processes/failed-bare/execution`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-token', 'content-type': 'application/json' },
      body: '{"inputs":{}}',
    });
    const location = response.headers.get('location') ?? '';
    at(30);

    const document = (await (await get(location)).json()) as StatusDocument;
    expect(document.processID).toBe('failed-bare');
    expect(document.status).toBe('failed');
    expect(rels(document)).toEqual(['monitor']);
  });

  it('falls back to demo for other processes', async () => {
    const response = await fetch(`${sandbox.baseUrl}/processes/water-bodies/execution`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-token', 'content-type': 'application/json' },
      body: '{"inputs":{}}',
    });
    const location = response.headers.get('location') ?? '';
    at(30);

    const document = (await (await get(location)).json()) as StatusDocument;
    expect(document.processID).toBe('water-bodies');
    expect(document.status).toBe('successful');
    expect(logTitles(document)).toEqual(['Tool log ndvi.log', 'Tool log node_stage_out.log']);
  });

  it('rejects a body without inputs with 400', async () => {
    const response = await fetch(`${sandbox.baseUrl}/processes/ndvi-calc/execution`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-token', 'content-type': 'application/json' },
      body: '{"input": {}}',
    });

    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toBe('"inputs" must be a JSON object.');
  });
});

describe('sandbox status', () => {
  it('follows the demo progress steps', async () => {
    const job = await sandbox.submit('demo');
    const steps: [number, number, string][] = [
      [0.4, 0, 'ZOO-Kernel accepted to run your service!'],
      [0.5, 2, 'pre-execution hook'],
      [1, 5, 'starting execution'],
      [2, 15, 'processing environment created'],
      [3, 20, 'upload required files'],
      [4, 23, 'execution submitted'],
      [7, 90, 'delivering outputs, logs and usage report'],
      [8, 97, 'post-execution hook'],
      [8.9, 99, 'clean-up'],
    ];

    for (const [seconds, progress, message] of steps) {
      at(seconds);
      const document = await status(job);
      expect(document.status).toBe('running');
      expect(document.progress).toBe(progress);
      expect(document.message).toBe(message);
      expect(rels(document)).toEqual(['monitor']);
      expect(document.finished).toBeUndefined();
    }
  });

  it('ends demo successful with results and log links', async () => {
    const job = await sandbox.submit('demo');
    at(9);

    const document = await status(job);

    expect(document.status).toBe('successful');
    expect(document.message).toBe(successMessage);
    expect(document).not.toHaveProperty('progress');
    expect(document.finished).toBe('2026-11-30T09:12:13.311Z');
    expect(document.updated).toBe('2026-11-30T09:12:13.311Z');
    expect(document.created).toBe('2026-11-30T09:12:04.311Z');
    expect(document.links).toEqual([
      { title: 'Status location', rel: 'monitor', type: 'application/json', href: job.statusUrl },
      {
        title: 'Result location',
        rel: resultsRel,
        type: 'application/json',
        href: `${job.statusUrl}/results`,
      },
      { title: 'Tool log ndvi.log', rel: 'related', type: 'text/plain', href: `${job.statusUrl}/ndvi.log` },
      {
        title: 'Tool log node_stage_out.log',
        rel: 'related',
        type: 'text/plain',
        href: `${job.statusUrl}/node_stage_out.log`,
      },
    ]);
  });

  it.each(['demo', 'failed', 'failed-bare', 'dismissed', 'logs-late'])(
    'omits progress once %s ends',
    async (name) => {
      const job = await sandbox.submit(name);
      at(60);

      const document = await status(job);

      expect(['successful', 'failed', 'dismissed']).toContain(document.status);
      expect(document).not.toHaveProperty('progress');
      expect(document.finished).toMatch(/^2026-11-30T09:12:\d\d\.\d{3}Z$/);
    },
  );

  it('reports failed with the exception and ndvi.log', async () => {
    const job = await sandbox.submit('failed');
    at(3);
    expect((await status(job)).progress).toBe(23);
    at(4);

    const document = await status(job);

    expect(document.status).toBe('failed');
    expect(document.message).toMatch(/^Exception during execution\.\.\.\nTraceback/);
    expect(document.message).toMatch(/RuntimeError: input scene has no red band$/);
    expect(rels(document)).toEqual(['monitor', 'related']);
    expect(logTitles(document)).toEqual(['Tool log ndvi.log']);
  });

  it('reports failed-bare with the success text and only monitor', async () => {
    const job = await sandbox.submit('failed-bare');
    at(3);

    const document = await status(job);

    expect(document.status).toBe('failed');
    expect(document.message).toBe(successMessage);
    expect(rels(document)).toEqual(['monitor']);
  });

  it('publishes logs-late log links five seconds after success', async () => {
    const job = await sandbox.submit('logs-late');
    at(4);
    const early = await status(job);
    expect(early.status).toBe('successful');
    expect(rels(early)).toEqual(['monitor', resultsRel]);
    expect((await get(`${job.statusUrl}/ndvi.log`)).status).toBe(404);

    at(8.9);
    expect(rels(await status(job))).toEqual(['monitor', resultsRel]);

    at(9);
    const late = await status(job);
    expect(logTitles(late)).toEqual(['Tool log ndvi.log', 'Tool log node_stage_out.log']);
    expect(late.finished).toBe('2026-11-30T09:12:08.311Z');
    expect(late.updated).toBe('2026-11-30T09:12:13.311Z');
  });

  it('keeps the dismissed scenario dismissed with a parent link', async () => {
    const job = await sandbox.submit('dismissed');
    at(3);
    expect((await status(job)).status).toBe('running');

    for (const seconds of [4, 60, 3600]) {
      at(seconds);
      const document = await status(job);
      expect(document.status).toBe('dismissed');
      expect(document.message).toBe('ZOO-Kernel successfully dismissed your service!');
      expect(document.links).toEqual([
        {
          title: 'The job list for the current process',
          rel: 'parent',
          type: 'application/json',
          href: `${sandbox.baseUrl}/jobs`,
        },
      ]);
    }
    expect((await get(`${job.statusUrl}/results`)).status).toBe(403);
  });

  it('answers 403 for an unknown job', async () => {
    const response = await get(`${sandbox.baseUrl}/jobs/3f9c2e1a-7b44-11f1-9a3e-0242ac120002`);

    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ type: 'about:blank', title: 'Forbidden', status: 403 });
  });
});

describe('sandbox authentication', () => {
  it('answers 401 without a token and 403 with a wrong one', async () => {
    const job = await sandbox.submit('demo');

    const missing = await get(job.statusUrl, null);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer');
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(await missing.json()).toEqual({
      type: 'about:blank',
      title: 'Unauthorized',
      status: 401,
      detail: 'A bearer token is required.',
    });

    const wrong = await get(job.statusUrl, 'not-the-token');
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ title: 'Forbidden', status: 403 });

    expect(sandbox.requests.slice(-2).map((request) => [request.auth, request.status])).toEqual([
      ['none', 401],
      ['invalid', 403],
    ]);
  });

  it('rejects execute without the token', async () => {
    const response = await fetch(`${sandbox.baseUrl}/processes/ndvi-calc/execution`, {
      method: 'POST',
      headers: { authorization: 'Basic dXNlcjpwYXNz', 'content-type': 'application/json' },
      body: '{"inputs":{}}',
    });

    expect(response.status).toBe(403);
    expect((await get(`${sandbox.baseUrl}/jobs`)).status).toBe(200);
    expect(((await (await get(`${sandbox.baseUrl}/jobs`)).json()) as { jobs: unknown[] }).jobs).toEqual([]);
  });

  it('answers 403 for another workspace', async () => {
    const response = await get(`${sandbox.apiUrl}/api/catalogue/stac/catalogs/user/catalogs/other-ws/jobs`);

    expect(response.status).toBe(403);
  });
});

describe('sandbox results', () => {
  it('answers result-not-ready before the job ends', async () => {
    const job = await sandbox.submit('demo');
    at(8.9);

    const response = await get(`${job.statusUrl}/results`);

    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      type: 'https://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/result-not-ready',
      title: 'ResultNotReady',
    });
  });

  it('returns the STAC collection once successful', async () => {
    const job = await sandbox.submit('demo');
    at(9);

    const response = await get(`${job.statusUrl}/results`);

    expect(response.status).toBe(200);
    const collection = (await response.json()) as Record<string, unknown> & { links: Link[] };
    expect(collection).toMatchObject({
      type: 'Collection',
      stac_version: '1.0.0',
      id: `col_${job.jobId}`,
      title: `Result Collection for Job ${job.jobId}`,
      license: 'proprietary',
      extent: {
        spatial: { bbox: [[-3.2, 51.3, -2.3, 52]] },
        temporal: { interval: [['2026-06-01T11:02:13Z', '2026-06-15T11:02:09Z']] },
      },
    });
    const processFiles = `${sandbox.filesOrigin}/files/workspaces-eodhp/processing-results/ndvi-calc`;
    expect(collection.links.filter((link) => link.rel === 'item').map((link) => link.href)).toEqual([
      `${processFiles}/catalog/col_${job.jobId}/ndvi-20260601.json`,
      `${processFiles}/catalog/col_${job.jobId}/ndvi-20260615.json`,
    ]);
    expect(collection.links.map((link) => link.rel)).toEqual(['root', 'parent', 'self', 'item', 'item']);
  });

  it('answers 500 NoApplicableCode for a failed job', async () => {
    const job = await sandbox.submit('failed');
    at(2);
    expect((await get(`${job.statusUrl}/results`)).status).toBe(404);
    at(4);

    const response = await get(`${job.statusUrl}/results`);

    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({
      title: 'NoApplicableCode',
      detail: 'The service failed to execute.',
    });
  });

  it('returns {} for a job with results "empty"', async () => {
    const job = await sandbox.submit({
      name: 'no-outputs',
      description: 'Succeeds without outputs.',
      processId: 'ndvi-calc',
      timeline: [{ at: 1, status: 'successful', message: successMessage }],
      results: 'empty',
    });
    at(1);

    const response = await get(`${job.statusUrl}/results`);

    expect(response.status).toBe(200);
    expect(await response.text()).toBe('{}');
  });
});

describe('sandbox logs', () => {
  it('serves a published log as text/plain', async () => {
    const job = await sandbox.submit('failed');
    at(3);
    expect((await get(`${job.statusUrl}/ndvi.log`)).status).toBe(404);
    at(4);

    const response = await get(`${job.statusUrl}/ndvi.log`);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const lines = (await response.text()).trimEnd().split('\n');
    expect(lines.at(-1)).toBe('RuntimeError: input scene has no red band');
    expect(lines).toContain('2026-11-30T09:14:43Z ERROR band B04 not found in S2B_MSIL2A_20260601');
  });

  it('answers 404 for a log the job never links', async () => {
    const job = await sandbox.submit('demo');
    at(9);

    expect((await get(`${job.statusUrl}/node_stage_in.log`)).status).toBe(404);
    expect((await get(`${job.statusUrl}/node_stage_out.log`)).status).toBe(200);
  });
});

describe('sandbox dismissal', () => {
  it('dismisses a job and then forgets it', async () => {
    const job = await sandbox.submit('demo');
    at(9);
    expect((await get(`${job.statusUrl}/ndvi.log`)).status).toBe(200);
    at(10);

    const response = await get(job.statusUrl, sandbox.token, 'DELETE');

    expect(response.status).toBe(200);
    const document = (await response.json()) as StatusDocument;
    expect(document).toMatchObject({
      jobID: job.jobId,
      status: 'dismissed',
      message: 'ZOO-Kernel successfully dismissed your service!',
      finished: '2026-11-30T09:12:14.311Z',
    });
    expect(rels(document)).toEqual(['parent']);
    for (const url of [job.statusUrl, `${job.statusUrl}/results`, `${job.statusUrl}/ndvi.log`]) {
      expect((await get(url)).status).toBe(403);
    }
    expect((await get(job.statusUrl, sandbox.token, 'DELETE')).status).toBe(403);
    const list = (await (await get(`${sandbox.baseUrl}/jobs`)).json()) as { jobs: unknown[] };
    expect(list.jobs).toEqual([]);
  });
});

describe('sandbox job list', () => {
  it('pages jobs with limit and skip', async () => {
    const jobs = [await sandbox.submit('demo'), await sandbox.submit('failed'), await sandbox.submit('demo')];
    at(4);

    const response = await get(`${sandbox.baseUrl}/jobs?limit=2&skip=1`);

    expect(response.status).toBe(200);
    const page = (await response.json()) as { jobs: StatusDocument[]; links: Link[]; numberTotal: number };
    expect(page.jobs.map((job) => job.jobID)).toEqual([jobs[1]?.jobId, jobs[2]?.jobId]);
    expect(page.jobs.map((job) => job.status)).toEqual(['failed', 'running']);
    expect(page.numberTotal).toBe(2);
    expect(page.links).toEqual([
      { rel: 'self', type: 'application/json', href: `${sandbox.baseUrl}/jobs?limit=2&skip=1` },
      { rel: 'prev', type: 'application/json', href: `${sandbox.baseUrl}/jobs?limit=2&skip=0` },
    ]);

    const first = (await (await get(`${sandbox.baseUrl}/jobs?limit=2`)).json()) as { links: Link[] };
    expect(first.links.map((link) => link.rel)).toEqual(['self', 'next']);
  });

  it('rejects an invalid limit with 400', async () => {
    expect((await get(`${sandbox.baseUrl}/jobs?limit=0`)).status).toBe(400);
    expect((await get(`${sandbox.baseUrl}/jobs?limit=ten`)).status).toBe(400);
  });
});

describe('startSandbox options', () => {
  it.each(['0.0.0.0', '192.0.2.10', 'localhost', 'example.org'])('rejects host %s', async (host) => {
    await expect(startSandbox({ host })).rejects.toThrow(
      `invalid host "${host}": the sandbox listens only on loopback addresses`,
    );
  });

  it('rejects a workspace that is not a DNS label', async () => {
    await expect(startSandbox({ workspace: '../other' })).rejects.toMatchObject({
      name: 'SandboxOptionsError',
    });
  });

  it('derives URLs and allowed hosts from the ports', () => {
    const apiPort = new URL(sandbox.apiUrl).port;
    const filesPort = new URL(sandbox.filesOrigin).port;

    expect(sandbox.apiUrl).toBe(`http://127.0.0.1:${apiPort}`);
    expect(sandbox.baseUrl).toBe(
      `http://127.0.0.1:${apiPort}/api/catalogue/stac/catalogs/user/catalogs/demo-ws`,
    );
    expect(sandbox.allowedHosts).toEqual([`127.0.0.1:${apiPort}`, `127.0.0.1:${filesPort}`]);
    expect(new Set([apiPort, filesPort, new URL(sandbox.foreignOrigin).port]).size).toBe(3);
  });

  it('generates a random token by default', async () => {
    const other = await startSandbox();
    try {
      expect(other.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(other.token).not.toBe(sandbox.token);
    } finally {
      await other.close();
    }
  });
});
