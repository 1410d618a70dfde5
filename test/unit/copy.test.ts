import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDirectoryStore } from '../../lambdas/adapters/directory-store';
import { type ClosableGuardedFetch, createGuardedFetch } from '../../lambdas/adapters/http';
import { createS3Store } from '../../lambdas/adapters/s3-store';
import { copyArtifact, sha256FromMultihash, unexpectedContentReason } from '../../lambdas/core/copy';
import { TransientHttpError, UrlNotAllowedError } from '../../lambdas/core/errors';
import type { PlanEntry } from '../../lambdas/core/plan';
import type { ArchiveStore, GuardedFetch } from '../../lambdas/core/ports';
import { type LocalS3, startLocalS3 } from './support/s3rver';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

function patternBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let index = 0; index < size; index += 1) {
    bytes[index] = (index * 13 + 5) % 251;
  }
  return bytes;
}

const fileUrl =
  'https://demo-ws.eodatahub-workspaces.org.uk/files/workspaces-eodhp/processing-results/ndvi-calc/item/ndvi.tif';

function planEntry(overrides: Partial<PlanEntry> = {}): PlanEntry {
  return {
    key: 'results/item/ndvi.tif',
    url: fileUrl,
    kind: 'asset',
    batch: 0,
    contentType: 'image/tiff',
    ...overrides,
  };
}

/** A fetch that returns what `respond` builds for every URL and records the requests. */
function fakeFetch(respond: (url: string) => Response | Promise<Response>) {
  const requests: string[] = [];
  const fetch: GuardedFetch = async (url) => {
    requests.push(url);
    return respond(url);
  };
  return { fetch, requests };
}

function fileResponse(bytes: Uint8Array, headers: Record<string, string> = {}): Response {
  return new Response(bytes, { status: 200, headers: { 'content-type': 'image/tiff', ...headers } });
}

/** Returns a body that sends `chunks` chunks of 64 KiB and then errors, as a connection reset would. */
function cutBody(chunks: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === chunks) {
        controller.error(new TypeError('terminated: other side closed'));
        return;
      }
      sent += 1;
      controller.enqueue(patternBytes(64 * 1024));
    },
  });
}

describe('sha256FromMultihash', () => {
  it('reads SHA2-256 multihashes', () => {
    const digest = 'ab'.repeat(32);

    expect(sha256FromMultihash(`1220${digest}`)).toBe(digest);
    expect(sha256FromMultihash(`1220${digest.toUpperCase()}`)).toBe(digest);
  });

  it('ignores other algorithms and malformed values', () => {
    expect(sha256FromMultihash(`1114${'ab'.repeat(20)}`)).toBeNull();
    expect(sha256FromMultihash(`1340${'ab'.repeat(64)}`)).toBeNull();
    expect(sha256FromMultihash(`1220${'ab'.repeat(31)}`)).toBeNull();
    expect(sha256FromMultihash('ab'.repeat(32))).toBeNull();
  });
});

describe('unexpectedContentReason', () => {
  it('flags pages and error documents', () => {
    expect(unexpectedContentReason('text/html; charset=utf-8', 'image/tiff')).toBe(
      'received an HTML page (Content-Type text/html) instead of the file',
    );
    expect(unexpectedContentReason('text/html', undefined)).toMatch(/HTML page/);
    expect(unexpectedContentReason('text/html', 'text/plain')).toMatch(/HTML page/);
    expect(unexpectedContentReason('application/problem+json', 'image/tiff')).toBe(
      'received an error document (Content-Type application/problem+json) instead of the file',
    );
    expect(unexpectedContentReason('application/problem+json', 'application/json')).toMatch(/error document/);
  });

  it('flags JSON in place of a binary file', () => {
    expect(unexpectedContentReason('application/json', 'image/tiff; application=geotiff')).toBe(
      'received a JSON document (Content-Type application/json) where image/tiff was expected',
    );
    expect(unexpectedContentReason('application/vnd.error+json', 'application/x-netcdf')).toMatch(
      /^received a JSON document \(Content-Type application\/vnd\.error\+json\)/,
    );
    expect(unexpectedContentReason('text/json', 'image/png')).toMatch(/JSON document/);
  });

  it('accepts plausible types', () => {
    expect(unexpectedContentReason('text/html', 'text/html')).toBeNull();
    expect(unexpectedContentReason('application/octet-stream', 'image/tiff')).toBeNull();
    expect(unexpectedContentReason(null, 'image/tiff')).toBeNull();
    expect(unexpectedContentReason('application/json', 'application/geo+json')).toBeNull();
    expect(unexpectedContentReason('application/json', undefined)).toBeNull();
    expect(unexpectedContentReason('application/json', 'text/plain')).toBeNull();
    expect(unexpectedContentReason('application/json', 'application/octet-stream')).toBeNull();
    expect(unexpectedContentReason('application/geo+json', 'application/json')).toBeNull();
  });
});

interface StoreUnderTest {
  store: ArchiveStore;
  /** Lists every key in the store. */
  keys(): Promise<string[]>;
}

let local: LocalS3;
let directory: string;

beforeAll(async () => {
  local = await startLocalS3();
});

afterAll(async () => {
  await local.close();
});

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'copy-'));
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const storeKinds: Array<[string, () => StoreUnderTest]> = [
  [
    'directory store',
    () => {
      const store = createDirectoryStore(directory);
      return {
        store,
        // Reads the directory itself so temporary files would show up too.
        keys: async () =>
          (await readdir(directory, { recursive: true, withFileTypes: true }))
            .filter((e) => e.isFile())
            .map((e) => e.name),
      };
    },
  ],
  [
    's3rver',
    () => {
      const prefix = `copy-${Math.random().toString(16).slice(2)}`;
      const store = createS3Store({ client: local.client, bucket: local.bucket, prefix });
      return { store, keys: () => store.list('') };
    },
  ],
];

describe.each(storeKinds)('copyArtifact into %s', (_name, makeStore) => {
  it('archives the bytes with their digest', async () => {
    const { store } = makeStore();
    const bytes = patternBytes(300_001);
    const { fetch, requests } = fakeFetch(() =>
      fileResponse(bytes, { 'content-length': String(bytes.length) }),
    );
    const entry = planEntry({ expectedBytes: bytes.length, checksum: `1220${sha256(bytes)}` });

    const result = await copyArtifact({ fetch, store }, 'ws/job/results/item/ndvi.tif', entry);

    expect(result).toEqual({
      record: {
        key: 'results/item/ndvi.tif',
        source: fileUrl,
        kind: 'asset',
        bytes: bytes.length,
        sha256: sha256(bytes),
        contentType: 'image/tiff',
        outcome: 'archived',
      },
      retryable: false,
    });
    expect(requests).toEqual([fileUrl]);
    const stored = await store.getObject('ws/job/results/item/ndvi.tif');
    expect(sha256(stored ?? new Uint8Array())).toBe(sha256(bytes));
    expect((await store.head('ws/job/results/item/ndvi.tif'))?.size).toBe(bytes.length);
  });

  it('archives an empty file', async () => {
    const { store } = makeStore();
    const { fetch } = fakeFetch(
      () => new Response(null, { status: 200, headers: { 'content-type': 'text/plain' } }),
    );

    const result = await copyArtifact(
      { fetch, store },
      'ws/job/logs/empty.log',
      planEntry({ key: 'logs/empty.log', kind: 'log', contentType: 'text/plain' }),
    );

    expect(result.record).toMatchObject({ outcome: 'archived', bytes: 0, sha256: sha256(new Uint8Array()) });
    expect((await store.head('ws/job/logs/empty.log'))?.size).toBe(0);
  });

  const failures: Array<[string, () => Response, Partial<PlanEntry>, RegExp, boolean]> = [
    [
      'a size other than file:size',
      () => fileResponse(patternBytes(1000)),
      { expectedBytes: 999 },
      /^size mismatch: received more than the 999 bytes expected$/,
      false,
    ],
    [
      'a file shorter than file:size',
      () => fileResponse(patternBytes(1000)),
      { expectedBytes: 1001 },
      /^size mismatch: received 1000 bytes but file:size is 1001$/,
      false,
    ],
    [
      'a Content-Length other than file:size',
      () => fileResponse(patternBytes(1000), { 'content-length': '1000' }),
      { expectedBytes: 1200 },
      /^size mismatch: Content-Length is 1000 but file:size is 1200$/,
      false,
    ],
    [
      'a wrong checksum',
      () => fileResponse(patternBytes(1000)),
      { checksum: `1220${'0'.repeat(64)}` },
      /^checksum mismatch: SHA-256 is [0-9a-f]{64} but file:checksum expects 0{64}$/,
      false,
    ],
    [
      'an HTML login page',
      () =>
        new Response('<html><body>Sign in</body></html>', {
          headers: { 'content-type': 'text/html; charset=utf-8' },
        }),
      {},
      /^received an HTML page \(Content-Type text\/html\) instead of the file$/,
      false,
    ],
    [
      'an RFC 7807 error document',
      () =>
        new Response('{"type":"about:blank","title":"Forbidden","status":403}', {
          headers: { 'content-type': 'application/problem+json' },
        }),
      {},
      /^received an error document/,
      false,
    ],
    ['HTTP 404', () => new Response('gone', { status: 404 }), {}, /^HTTP 404$/, false],
    [
      'HTTP 410 with its status text',
      () => new Response('gone', { status: 410, statusText: 'Gone' }),
      {},
      /^HTTP 410 Gone$/,
      false,
    ],
    [
      'HTTP 403',
      () => new Response('no', { status: 403 }),
      {},
      /^HTTP 403 \(token rejected or file not accessible\)$/,
      false,
    ],
    ['HTTP 503', () => new Response('busy', { status: 503 }), {}, /^HTTP 503$/, true],
    ['HTTP 429', () => new Response('slow down', { status: 429 }), {}, /^HTTP 429$/, true],
    [
      'a cut download',
      () => new Response(cutBody(3), { headers: { 'content-type': 'image/tiff' } }),
      {},
      /^download interrupted after \d+ bytes: terminated: other side closed$/,
      true,
    ],
    [
      'a cut download with Content-Length',
      () =>
        new Response(cutBody(2), {
          headers: { 'content-type': 'image/tiff', 'content-length': String(5 * 64 * 1024) },
        }),
      { expectedBytes: 5 * 64 * 1024 },
      /^download interrupted after \d+ of 327680 bytes: terminated/,
      true,
    ],
  ];

  it.each(failures)('rejects %s and stores nothing', async (_case, respond, overrides, reason, retryable) => {
    const { store, keys } = makeStore();
    const { fetch } = fakeFetch(respond);

    const result = await copyArtifact({ fetch, store }, 'ws/job/results/item/ndvi.tif', planEntry(overrides));

    expect(result.record.outcome).toBe('failed');
    expect(result.record.reason).toMatch(reason);
    expect(result.record).toMatchObject({
      bytes: 0,
      sha256: null,
      key: 'results/item/ndvi.tif',
      source: fileUrl,
    });
    expect(result.retryable).toBe(retryable);
    expect(await store.head('ws/job/results/item/ndvi.tif')).toBeNull();
    expect(await keys()).toEqual([]);
  });

  it('keeps an earlier copy when a retry fails', async () => {
    const { store } = makeStore();
    const bytes = patternBytes(2000);
    await copyArtifact(
      { fetch: fakeFetch(() => fileResponse(bytes)).fetch, store },
      'ws/job/a.tif',
      planEntry(),
    );

    const result = await copyArtifact(
      { fetch: fakeFetch(() => fileResponse(patternBytes(10))).fetch, store },
      'ws/job/a.tif',
      planEntry({ expectedBytes: 2000 }),
    );

    expect(result.record.outcome).toBe('failed');
    expect((await store.head('ws/job/a.tif'))?.size).toBe(2000);
  });
});

describe('copyArtifact failures before the body', () => {
  const store = createDirectoryStore(path.join(tmpdir(), 'copy-never-written'));

  it('reports a network error as retryable', async () => {
    const fetch: GuardedFetch = async () => {
      throw new TransientHttpError(
        'network error reaching demo-ws.eodatahub-workspaces.org.uk (ECONNRESET)',
        {
          kind: 'network',
        },
      );
    };

    const result = await copyArtifact({ fetch, store }, 'ws/job/a.tif', planEntry());

    expect(result.record.reason).toBe(
      'request failed: network error reaching demo-ws.eodatahub-workspaces.org.uk (ECONNRESET)',
    );
    expect(result.retryable).toBe(true);
  });

  it('reports a rejected URL as final', async () => {
    const fetch: GuardedFetch = async () => {
      throw new UrlNotAllowedError(
        'login.example.org',
        'redirect from demo-ws to login.example.org rejected',
      );
    };

    const result = await copyArtifact({ fetch, store }, 'ws/job/a.tif', planEntry());

    expect(result.record.reason).toBe('request failed: redirect from demo-ws to login.example.org rejected');
    expect(result.retryable).toBe(false);
  });
});

describe('copyArtifact streaming', () => {
  it('stops reading a body longer than announced', async () => {
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(patternBytes(64 * 1024));
      },
    });
    const store = createDirectoryStore(directory);

    const result = await copyArtifact(
      {
        fetch: fakeFetch(() => new Response(endless, { headers: { 'content-type': 'image/tiff' } })).fetch,
        store,
      },
      'ws/job/a.tif',
      planEntry({ expectedBytes: 100_000 }),
    );

    expect(result.record.reason).toBe('size mismatch: received more than the 100000 bytes expected');
    expect(pulled).toBeLessThan(10);
  });

  it('rethrows a store failure', async () => {
    const directoryStore = createDirectoryStore(directory);
    const failingStore: ArchiveStore = {
      ...directoryStore,
      async putStream(_key, body) {
        for await (const _chunk of body as AsyncIterable<Uint8Array>) {
          throw new Error('AccessDenied: not allowed to write');
        }
        return { size: 0 };
      },
    };

    await expect(
      copyArtifact(
        { fetch: fakeFetch(() => fileResponse(patternBytes(5000))).fetch, store: failingStore },
        'ws/job/a.tif',
        planEntry(),
      ),
    ).rejects.toThrow('AccessDenied: not allowed to write');
  });

  it('sends the expected type as Accept', async () => {
    const accepts: Array<string | undefined> = [];
    const fetch: GuardedFetch = async (_url, init) => {
      accepts.push(init?.accept);
      return fileResponse(patternBytes(10));
    };
    const store = createDirectoryStore(directory);

    await copyArtifact({ fetch, store }, 'ws/job/a.tif', planEntry());
    await copyArtifact({ fetch, store }, 'ws/job/b.bin', planEntry({ contentType: undefined }));

    expect(accepts).toEqual(['image/tiff', '*/*']);
    expect(await readFile(path.join(directory, 'ws/job/b.bin'))).toEqual(Buffer.from(patternBytes(10)));
  });

  it('archives a multi-part file to s3rver and aborts a cut one', async () => {
    const store = createS3Store({ client: local.client, bucket: local.bucket, prefix: 'copy-multipart' });
    const bytes = patternBytes(9 * 1024 * 1024 + 11);

    const archived = await copyArtifact(
      {
        fetch: fakeFetch(() => fileResponse(bytes, { 'content-length': String(bytes.length) })).fetch,
        store,
      },
      'ws/job/big.tif',
      planEntry({ expectedBytes: bytes.length, checksum: `1220${sha256(bytes)}` }),
    );
    local.commands.length = 0;
    const cut = await copyArtifact(
      {
        fetch: fakeFetch(() => new Response(cutBody(150), { headers: { 'content-type': 'image/tiff' } }))
          .fetch,
        store,
      },
      'ws/job/cut.tif',
      planEntry(),
    );

    expect(archived.record).toMatchObject({
      outcome: 'archived',
      bytes: bytes.length,
      sha256: sha256(bytes),
    });
    expect((await store.head('ws/job/big.tif'))?.sha256).toBe(sha256(bytes));
    expect(cut.record.outcome).toBe('failed');
    expect(local.commands).toContain('AbortMultipartUploadCommand');
    expect(await store.head('ws/job/cut.tif')).toBeNull();
  });
});

describe('copyArtifact through the guarded fetch', () => {
  const bytes = patternBytes(3 * 1024 * 1024 + 5);
  let server: Server;
  let origin: string;
  let guardedFetch: ClosableGuardedFetch;
  const authorizations: Array<string | undefined> = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      authorizations.push(request.headers.authorization);
      if (request.url === '/files/ndvi.tif') {
        response.writeHead(200, { 'content-type': 'image/tiff', 'content-length': String(bytes.length) });
        response.end(bytes);
      } else if (request.url === '/files/cut.tif') {
        // Announces the whole file, sends a third of it, then drops the connection.
        response.writeHead(200, { 'content-type': 'image/tiff', 'content-length': String(bytes.length) });
        response.write(bytes.subarray(0, 1024 * 1024), () => response.destroy());
      } else if (request.url === '/files/login') {
        // The target is never requested: the guard rejects the host before connecting.
        response.writeHead(302, { location: 'https://login.example.org/sign-in' });
        response.end();
      } else {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    origin = `http://127.0.0.1:${port}`;
    guardedFetch = createGuardedFetch({
      allowedHosts: [`127.0.0.1:${port}`],
      allowLoopback: true,
      getToken: async () => 'test-token',
      timeoutMs: 10_000,
    });
  });

  afterAll(async () => {
    await guardedFetch.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('streams a served file byte for byte', async () => {
    const store = createDirectoryStore(directory);

    const result = await copyArtifact(
      { fetch: guardedFetch, store },
      'ws/job/ndvi.tif',
      planEntry({
        url: `${origin}/files/ndvi.tif`,
        expectedBytes: bytes.length,
        checksum: `1220${sha256(bytes)}`,
      }),
    );

    expect(result.record).toMatchObject({ outcome: 'archived', bytes: bytes.length, sha256: sha256(bytes) });
    expect(Buffer.compare(await readFile(path.join(directory, 'ws/job/ndvi.tif')), Buffer.from(bytes))).toBe(
      0,
    );
    expect(authorizations.at(-1)).toBe('Bearer test-token');
  });

  it('fails a dropped connection and stores nothing', async () => {
    const store = createDirectoryStore(directory);

    const result = await copyArtifact(
      { fetch: guardedFetch, store },
      'ws/job/cut.tif',
      planEntry({ url: `${origin}/files/cut.tif` }),
    );

    expect(result.record.outcome).toBe('failed');
    expect(result.record.reason).toMatch(
      /^download interrupted after \d+ of \d+ bytes: terminated \(other side closed\)$/,
    );
    expect(result.retryable).toBe(true);
    const entries = await readdir(directory, { recursive: true, withFileTypes: true });
    expect(entries.filter((entry) => entry.isFile()).map((entry) => entry.name)).toEqual([]);
  });

  it('fails a redirect to another host', async () => {
    const store = createDirectoryStore(directory);

    const result = await copyArtifact(
      { fetch: guardedFetch, store },
      'ws/job/login.tif',
      planEntry({ url: `${origin}/files/login` }),
    );

    expect(result.record.reason).toMatch(
      /^request failed: redirect from 127\.0\.0\.1:\d+ to login\.example\.org rejected/,
    );
    expect(result.retryable).toBe(false);
    expect(await readdir(directory)).toEqual([]);
  });
});
