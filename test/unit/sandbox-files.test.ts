import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Sandbox, type SubmittedJob, startSandbox } from '../../lib/sandbox';
import { generatedContentStream } from '../../lib/sandbox/content';

const submittedAt = Date.parse('2026-11-30T09:12:04.311Z');
const rawOverrideScenario = 'test/fixtures/sandbox/raw-override.json';
const geotiff = 'image/tiff; application=geotiff; profile=cloud-optimized';

interface StacItem {
  id: string;
  collection: string;
  bbox: number[];
  properties: Record<string, unknown>;
  links: { rel: string; href: string }[];
  assets: Record<
    string,
    { href: string; type: string; roles: string[]; 'file:size'?: number; 'file:checksum'?: string }
  >;
}

let now = submittedAt;
const clock = { now: () => now };
let sandbox: Sandbox;
let env: Record<string, string | undefined> = {};

beforeEach(async () => {
  now = submittedAt;
  env = {};
  sandbox = await startSandbox({ clock, token: 'test-token', env });
});

afterEach(async () => {
  await sandbox.close();
});

function at(seconds: number): void {
  now = submittedAt + seconds * 1000;
}

function get(url: string, token: string | null = sandbox.token, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    redirect: 'manual',
    ...init,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
  });
}

async function itemUrls(job: SubmittedJob): Promise<string[]> {
  const collection = (await (await get(`${job.statusUrl}/results`)).json()) as {
    links: { rel: string; href: string }[];
  };
  return collection.links.filter((link) => link.rel === 'item').map((link) => link.href);
}

async function firstItem(job: SubmittedJob): Promise<StacItem> {
  const [url] = await itemUrls(job);
  const response = await get(url ?? '');
  expect(response.status).toBe(200);
  return (await response.json()) as StacItem;
}

function sha256(bytes: ArrayBuffer): string {
  return createHash('sha256').update(Buffer.from(bytes)).digest('hex');
}

async function collect(seed: string, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of generatedContentStream(seed, size)) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

describe('generatedContentStream', () => {
  it('produces the pinned bytes for a seed', async () => {
    expect((await collect('demo', 16)).toString('hex')).toBe('73c4b61262e6466a6cc44f63fb9dbc81');
  });

  it('produces exactly the requested size across chunks', async () => {
    const bytes = await collect('chunks', 65_537 * 3);

    expect(bytes.length).toBe(196_611);
    expect(bytes.subarray(0, 16).equals((await collect('chunks', 16)).subarray(0, 16))).toBe(true);
    expect((await collect('chunks', 0)).length).toBe(0);
  });

  it('gives different bytes for different seeds', async () => {
    expect((await collect('seed-a', 64)).equals(await collect('seed-b', 64))).toBe(false);
  });
});

describe('sandbox files server', () => {
  it('serves STAC items with file:size and file:checksum', async () => {
    const job = await sandbox.submit('demo');
    at(9);

    const item = await firstItem(job);

    expect(item.id).toBe('ndvi-20260601');
    expect(item.collection).toBe(`col_${job.jobId}`);
    expect(item.bbox).toEqual([-3.2, 51.3, -2.4, 51.9]);
    expect(item.properties.datetime).toBe('2026-06-01T11:02:13Z');
    const processFiles = `${sandbox.filesOrigin}/files/workspaces-eodhp/processing-results/ndvi-calc`;
    expect(item.assets.data).toMatchObject({
      href: `${processFiles}/ndvi-20260601/ndvi.tif`,
      type: geotiff,
      roles: ['data'],
      'file:size': 204_800,
    });
    expect(item.assets.data?.['file:checksum']).toMatch(/^1220[0-9a-f]{64}$/);
    expect(item.assets.thumbnail).toMatchObject({
      href: `${processFiles}/ndvi-20260601/ndvi-thumb.png`,
      type: 'image/png',
    });
  });

  it('streams assets that match Content-Length and checksum', async () => {
    const job = await sandbox.submit('demo');
    at(9);
    const item = await firstItem(job);

    const response = await get(item.assets.data?.href ?? '');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(geotiff);
    expect(response.headers.get('content-length')).toBe('204800');
    const bytes = await response.arrayBuffer();
    expect(bytes.byteLength).toBe(204_800);
    expect(`1220${sha256(bytes)}`).toBe(item.assets.data?.['file:checksum']);
  });

  it('serves a real PNG thumbnail', async () => {
    const job = await sandbox.submit('demo');
    at(9);
    const item = await firstItem(job);

    const response = await get(item.assets.thumbnail?.href ?? '');

    const bytes = Buffer.from(await response.arrayBuffer());
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(bytes.length).toBe(item.assets.thumbnail?.['file:size']);
    expect(bytes.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  });

  it('serves the same bytes in another sandbox', async () => {
    const job = await sandbox.submit('demo');
    at(9);
    const href = (await firstItem(job)).assets.data?.href ?? '';
    const first = sha256(await (await get(href)).arrayBuffer());

    const other = await startSandbox({ clock, token: 'other-token' });
    try {
      const otherJob = await other.submit('demo');
      at(18);
      const otherHref = href.replace(sandbox.filesOrigin, other.filesOrigin);
      expect(otherJob.jobId).not.toBe(job.jobId);
      const second = await fetch(otherHref, { headers: { authorization: 'Bearer other-token' } });
      expect(second.status).toBe(200);
      expect(sha256(await second.arrayBuffer())).toBe(first);
    } finally {
      await other.close();
    }
  });

  it('answers HEAD with Content-Length and no body', async () => {
    const job = await sandbox.submit('demo');
    at(9);
    const href = (await firstItem(job)).assets.data?.href ?? '';

    const response = await get(href, sandbox.token, { method: 'HEAD' });

    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('204800');
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('serves no item or asset before the job succeeds', async () => {
    const job = await sandbox.submit('demo');
    at(9);
    const [itemUrl] = await itemUrls(job);
    const href = (await firstItem(job)).assets.data?.href ?? '';
    const early = await sandbox.submit('demo');

    expect((await get(itemUrl?.replace(job.jobId, early.jobId) ?? '')).status).toBe(404);
    expect((await get(href)).status).toBe(200);
  });

  it('redirects a request without the token to sign-in', async () => {
    const job = await sandbox.submit('demo');
    at(9);
    const href = (await firstItem(job)).assets.data?.href ?? '';

    const response = await get(href, null);

    expect(response.status).toBe(302);
    const location = response.headers.get('location') ?? '';
    expect(location).toBe(`${sandbox.foreignOrigin}/sign-in?rd=${encodeURIComponent(href)}`);
    const signIn = await fetch(location);
    expect(signIn.status).toBe(200);
    expect(signIn.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await signIn.text()).toContain('<title>Sign in</title>');
    expect(sandbox.requests.filter((request) => request.server === 'foreign')).toEqual([
      {
        server: 'foreign',
        method: 'GET',
        path: location.slice(sandbox.foreignOrigin.length),
        auth: 'none',
        status: 200,
        at: now,
      },
    ]);
  });

  it('answers 403 to a wrong token', async () => {
    const job = await sandbox.submit('demo');
    at(9);
    const href = (await firstItem(job)).assets.data?.href ?? '';

    expect((await get(href, 'wrong-token')).status).toBe(403);
  });

  it('records a token sent to the foreign host', async () => {
    await get(`${sandbox.foreignOrigin}/files/anything`);

    expect(sandbox.requests).toEqual([
      { server: 'foreign', method: 'GET', path: '/files/anything', auth: 'valid', status: 404, at: now },
    ]);
  });
});

describe('sandbox scenario sizes', () => {
  it('reads an asset size from the environment', async () => {
    env.EODH_SANDBOX_LARGE_FILE_BYTES = '3000001';
    const job = await sandbox.submit(rawOverrideScenario);
    at(5);
    const item = await firstItem(job);

    const response = await get(item.assets.data?.href ?? '');

    expect(item.assets.data?.['file:size']).toBe(3_000_001);
    expect(response.headers.get('content-length')).toBe('3000001');
    expect((await response.arrayBuffer()).byteLength).toBe(3_000_001);
  });

  it('uses the default size when the variable is unset', async () => {
    const job = await sandbox.submit(rawOverrideScenario);
    at(5);

    expect((await firstItem(job)).assets.data?.['file:size']).toBe(4096);
  });

  it('rejects a variable that is not a byte count', async () => {
    env.EODH_SANDBOX_LARGE_FILE_BYTES = '2GiB';

    await expect(sandbox.submit(rawOverrideScenario)).rejects.toThrow(
      'scenario "raw-override": EODH_SANDBOX_LARGE_FILE_BYTES must be a whole number of bytes, got "2GiB"; unset it to use 4096',
    );
  });
});

describe('sandbox raw overrides', () => {
  it('replays a status body verbatim with placeholders filled', async () => {
    const job = await sandbox.submit(rawOverrideScenario);
    at(0.5);

    const response = await get(job.statusUrl);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(response.headers.get('x-replayed')).toBe('yes');
    expect(await response.text()).toBe(
      `{"jobID":"${job.jobId}","status":"running",  "progress":"12","note":"{{unknown}}"}`,
    );
  });

  it('limits an override to its count', async () => {
    const job = await sandbox.submit(rawOverrideScenario);
    at(1);

    const first = await get(job.statusUrl);
    const second = await get(job.statusUrl);
    const third = await get(job.statusUrl);

    expect(first.status).toBe(503);
    expect(first.headers.get('retry-after')).toBe('7');
    expect(await first.text()).toBe('upstream unavailable');
    expect(second.status).toBe(503);
    expect(third.status).toBe(200);
    expect(await third.json()).toMatchObject({ status: 'running', progress: 50, message: 'halfway' });
  });

  it('redirects an item to the foreign host in its window', async () => {
    const job = await sandbox.submit(rawOverrideScenario);
    at(2);
    const [itemUrl = ''] = await itemUrls(job);

    const redirected = await get(itemUrl);
    at(3);
    const served = await get(itemUrl);

    expect(redirected.status).toBe(302);
    expect(redirected.headers.get('location')).toBe(`${sandbox.foreignOrigin}/sign-in`);
    expect(served.status).toBe(200);
  });

  it('cuts a truncated asset after the given bytes', async () => {
    const job = await sandbox.submit(rawOverrideScenario);
    at(3.5);
    const href = (await firstItem(job)).assets.data?.href ?? '';

    const response = await get(href);

    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('10');
    await expect(response.arrayBuffer()).rejects.toThrow();
  });

  it('hangs a log request until the client aborts', async () => {
    const job = await sandbox.submit(rawOverrideScenario);
    at(4);
    const controller = new AbortController();

    const pending = get(`${job.statusUrl}/step.log`, sandbox.token, { signal: controller.signal });
    await expect
      .poll(() => sandbox.requests.at(-1)?.path)
      .toBe(new URL(`${job.statusUrl}/step.log`).pathname);
    controller.abort();

    await expect(pending).rejects.toThrow();
    expect(sandbox.requests.at(-1)?.status).toBe(0);
    at(5);
    expect(await (await get(`${job.statusUrl}/step.log`)).text()).toBe('step finished\n');
  });

  it('ends hung requests when the sandbox closes', async () => {
    const job = await sandbox.submit(rawOverrideScenario);
    at(4);

    const pending = get(`${job.statusUrl}/step.log`);
    await expect.poll(() => sandbox.requests.at(-1)?.status).toBe(0);
    await sandbox.close();

    await expect(pending).rejects.toThrow();
  });
});
