import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type ClosableGuardedFetch,
  createGuardedFetch,
  parseRetryAfter,
  readBodyText,
} from '../../lambdas/adapters/http';
import { TransientHttpError, UrlNotAllowedError } from '../../lambdas/core/errors';
import { type AddressClass, classifyIpAddress } from '../../lambdas/core/validation';

interface RecordedRequest {
  url: string;
  authorization: string | undefined;
  accept: string | undefined;
}

interface TestServer {
  port: number;
  requests: RecordedRequest[];
  server: Server;
}

const servers: Server[] = [];
const tcpServers: TcpServer[] = [];
const fetches: ClosableGuardedFetch[] = [];

async function startServer(
  respond: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<TestServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((request, response) => {
    requests.push({
      url: request.url ?? '',
      authorization: request.headers.authorization,
      accept: request.headers.accept,
    });
    respond(request, response);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, requests, server };
}

/** Starts a TCP server that only counts connections, to prove that nothing connected. */
async function startConnectionCounter(): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  tcpServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

function guardedFetch(
  options: Partial<Parameters<typeof createGuardedFetch>[0]> & { allowedHosts: string[] },
) {
  const fetch = createGuardedFetch({ allowLoopback: true, getToken: async () => 'test-token', ...options });
  fetches.push(fetch);
  return fetch;
}

afterEach(async () => {
  await Promise.all(fetches.splice(0).map((fetch) => fetch.close()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  for (const server of tcpServers.splice(0)) {
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('createGuardedFetch', () => {
  it('sends the bearer token to an allowed host', async () => {
    const api = await startServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end('{"status":"running"}');
    });
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`] });

    const response = await fetch(`http://127.0.0.1:${api.port}/jobs/abc`, { accept: 'application/json' });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'running' });
    expect(api.requests).toHaveLength(1);
    expect(api.requests[0]?.url).toBe('/jobs/abc');
    expect(api.requests[0]?.authorization).toBe('Bearer test-token');
    expect(api.requests[0]?.accept).toBe('application/json');
  });

  it('rejects a host not on the list before any request', async () => {
    const other = await startServer((_request, response) => response.end('should not be reached'));
    const getToken = vi.fn(async () => 'test-token');
    const fetch = guardedFetch({ allowedHosts: ['127.0.0.1:1'], getToken });

    const attempt = fetch(`http://127.0.0.1:${other.port}/jobs/abc`);

    await expect(attempt).rejects.toThrow(UrlNotAllowedError);
    await expect(attempt).rejects.toThrow(`host 127.0.0.1:${other.port} is not allowed`);
    expect(other.requests).toHaveLength(0);
    expect(getToken).not.toHaveBeenCalled();
  });

  it('treats localhost and 127.0.0.1 as different hosts', async () => {
    const api = await startServer((_request, response) => response.end('{}'));
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`] });

    await expect(fetch(`http://localhost:${api.port}/`)).rejects.toThrow(UrlNotAllowedError);
    expect(api.requests).toHaveLength(0);
  });

  it('rejects URLs with user credentials', async () => {
    const api = await startServer((_request, response) => response.end('{}'));
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`] });

    await expect(fetch(`http://user:pass@127.0.0.1:${api.port}/`)).rejects.toThrow(
      'contains user credentials',
    );
    expect(api.requests).toHaveLength(0);
  });

  it('rejects a string that is not a URL', async () => {
    const fetch = guardedFetch({ allowedHosts: ['127.0.0.1:1'] });

    await expect(fetch('not a url')).rejects.toThrow(UrlNotAllowedError);
  });

  it('follows a same-host redirect with the token', async () => {
    const api = await startServer((request, response) => {
      if (request.url === '/old') {
        response.writeHead(302, { location: '/new' });
        response.end();
        return;
      }
      response.end('{"moved":true}');
    });
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`] });

    const response = await fetch(`http://127.0.0.1:${api.port}/old`);

    expect(await response.json()).toEqual({ moved: true });
    expect(api.requests.map((request) => request.url)).toEqual(['/old', '/new']);
    expect(api.requests.map((request) => request.authorization)).toEqual([
      'Bearer test-token',
      'Bearer test-token',
    ]);
  });

  it('follows a redirect to another allowed host', async () => {
    const files = await startServer((_request, response) => response.end('file body'));
    const api = await startServer((_request, response) => {
      response.writeHead(307, { location: `http://127.0.0.1:${files.port}/files/a.tif` });
      response.end();
    });
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`, `127.0.0.1:${files.port}`] });

    const response = await fetch(`http://127.0.0.1:${api.port}/results`);

    expect(await response.text()).toBe('file body');
    expect(files.requests[0]?.url).toBe('/files/a.tif');
    expect(files.requests[0]?.authorization).toBe('Bearer test-token');
  });

  it('rejects a redirect hop to a port not on the list', async () => {
    const elsewhere = await startServer((_request, response) => response.end('should not be reached'));
    const api = await startServer((_request, response) => {
      response.writeHead(302, { location: `http://127.0.0.1:${elsewhere.port}/login` });
      response.end();
    });
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`] });

    const attempt = fetch(`http://127.0.0.1:${api.port}/files/a.tif`);

    await expect(attempt).rejects.toThrow(UrlNotAllowedError);
    await expect(attempt).rejects.toThrow(
      `redirect from 127.0.0.1:${api.port} to 127.0.0.1:${elsewhere.port} rejected`,
    );
    expect(api.requests.length).toBeGreaterThan(0);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('stops after the maximum number of redirects', async () => {
    const api = await startServer((request, response) => {
      response.writeHead(301, { location: `${request.url}x` });
      response.end();
    });
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`], maxRedirects: 3 });

    const attempt = fetch(`http://127.0.0.1:${api.port}/a`);

    await expect(attempt).rejects.toThrow(TransientHttpError);
    await expect(attempt).rejects.toThrow('stopped after 3 redirects');
    // The first request plus three followed redirects.
    expect(api.requests.map((request) => request.url)).toEqual(['/a', '/ax', '/axx', '/axxx']);
  });

  it('returns a redirect status without Location as the response', async () => {
    const api = await startServer((_request, response) => {
      response.writeHead(302);
      response.end();
    });
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`] });

    const response = await fetch(`http://127.0.0.1:${api.port}/`);

    expect(response.status).toBe(302);
  });

  it('resolves with error statuses instead of rejecting', async () => {
    const api = await startServer((_request, response) => {
      response.writeHead(503, { 'retry-after': '30' });
      response.end('busy');
    });
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`] });

    const response = await fetch(`http://127.0.0.1:${api.port}/`);

    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
  });

  it('rejects a loopback literal without allowLoopback before any request', async () => {
    const api = await startServer((_request, response) => response.end('{}'));
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`], allowLoopback: false });

    await expect(fetch(`http://127.0.0.1:${api.port}/`)).rejects.toThrow('URL scheme http: on');
    await expect(fetch(`https://127.0.0.1:${api.port}/`)).rejects.toThrow('address 127.0.0.1 is loopback');
    expect(api.requests).toHaveLength(0);
  });

  it('rejects a name resolving to loopback at connect time', async () => {
    const counter = await startConnectionCounter();
    const fetch = guardedFetch({ allowedHosts: [`localhost:${counter.port}`], allowLoopback: false });

    const attempt = fetch(`https://localhost:${counter.port}/jobs/abc`);

    await expect(attempt).rejects.toThrow(UrlNotAllowedError);
    await expect(attempt).rejects.toThrow(/host localhost resolves to (127\.0\.0\.1|::1) \(loopback\)/);
    expect(counter.connections()).toBe(0);
  });

  it('times out waiting for headers', async () => {
    const api = await startServer(() => {
      // Never answers.
    });
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`], timeoutMs: 200 });

    const attempt = fetch(`http://127.0.0.1:${api.port}/`);

    await expect(attempt).rejects.toThrow(TransientHttpError);
    await expect(attempt).rejects.toMatchObject({ kind: 'timeout' });
    await expect(attempt).rejects.toThrow(`timed out after 0.2 s waiting for 127.0.0.1:${api.port}`);
  });

  it('rejects an invalid host pattern', () => {
    expect(() => guardedFetch({ allowedHosts: ['*'] })).toThrow('invalid allowed-host pattern "*"');
  });

  it('allows a per-request timeout above the default', async () => {
    const api = await startServer((_request, response) => {
      setTimeout(() => response.end('late'), 300);
    });
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`], timeoutMs: 100 });

    const response = await fetch(`http://127.0.0.1:${api.port}/`, { timeoutMs: 5_000 });

    expect(await response.text()).toBe('late');
  });

  it('honours a per-request timeout', async () => {
    const api = await startServer(() => {});
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`], timeoutMs: 60_000 });

    await expect(fetch(`http://127.0.0.1:${api.port}/`, { timeoutMs: 100 })).rejects.toThrow(
      'timed out after 0.1 s',
    );
  });

  it('reports a refused connection as a network error', async () => {
    const closed = await startServer(() => {});
    const { port } = closed;
    servers.splice(servers.indexOf(closed.server), 1);
    await new Promise((resolve) => closed.server.close(resolve));
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${port}`] });

    const attempt = fetch(`http://127.0.0.1:${port}/`);

    await expect(attempt).rejects.toMatchObject({ name: 'TransientHttpError', kind: 'network' });
    await expect(attempt).rejects.toThrow(`network error reaching 127.0.0.1:${port} (ECONNREFUSED)`);
  });

  it('passes on an abort from the caller', async () => {
    const api = await startServer(() => {});
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`] });
    const controller = new AbortController();

    const attempt = fetch(`http://127.0.0.1:${api.port}/`, { signal: controller.signal });
    controller.abort(new Error('caller gave up'));

    await expect(attempt).rejects.toThrow('caller gave up');
  });
});

describe('readBodyText', () => {
  it('reads a body within the limit', async () => {
    const api = await startServer((_request, response) => response.end('héllo'));
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`] });

    const response = await fetch(`http://127.0.0.1:${api.port}/`);

    expect(await readBodyText(response, 100, 'api')).toBe('héllo');
  });

  it('rejects a body over the limit', async () => {
    const api = await startServer((_request, response) => response.end('x'.repeat(5_000)));
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`] });

    const response = await fetch(`http://127.0.0.1:${api.port}/`);

    await expect(readBodyText(response, 1_000, 'api')).rejects.toThrow(
      'response from api is larger than 1000 bytes',
    );
  });

  it('times out on a body that stops sending', async () => {
    const api = await startServer((_request, response) => {
      response.writeHead(200, { 'content-length': '100' });
      response.write('partial');
    });
    const fetch = guardedFetch({ allowedHosts: [`127.0.0.1:${api.port}`], timeoutMs: 200 });

    const response = await fetch(`http://127.0.0.1:${api.port}/`);

    await expect(readBodyText(response, 1_000, 'api')).rejects.toMatchObject({ kind: 'timeout' });
  });
});

describe('classifyIpAddress', () => {
  const cases: [string, AddressClass][] = [
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['2a00:1450:4009:81f::200e', 'public'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['172.15.255.255', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['100.127.255.255', 'private'],
    ['100.128.0.1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['169.254.169.254', 'link_local'],
    ['169.254.0.1', 'link_local'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['febf::1', 'link_local'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['::ffff:127.0.0.1', 'ipv4_mapped'],
    ['::ffff:169.254.169.254', 'ipv4_mapped'],
    ['::ffff:8.8.8.8', 'ipv4_mapped'],
    ['::ffff:7f00:1', 'ipv4_mapped'],
    ['::127.0.0.1', 'ipv4_embedded'],
    ['64:ff9b::a9fe:a9fe', 'ipv4_embedded'],
    ['2002:7f00:1::', 'ipv4_embedded'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['[::1]', 'loopback'],
  ];

  it.each(cases)('classifies %s as %s', (address, expected) => {
    expect(classifyIpAddress(address)).toBe(expected);
  });

  it('returns null for host names', () => {
    expect(classifyIpAddress('eodatahub.org.uk')).toBeNull();
    expect(classifyIpAddress('localhost')).toBeNull();
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-30T09:00:00Z');

  it('reads delay seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120);
    expect(parseRetryAfter(' 5 ', now)).toBe(5);
  });

  it('reads an HTTP date', () => {
    expect(parseRetryAfter('Mon, 30 Nov 2026 09:01:30 GMT', now)).toBe(90);
  });

  it('rounds a partial second up', () => {
    expect(parseRetryAfter('Mon, 30 Nov 2026 09:00:01 GMT', now - 500)).toBe(2);
  });

  it('ignores missing, past, zero and malformed values', () => {
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('0', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
    expect(parseRetryAfter('1.5', now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('Mon, 30 Nov 2026 08:59:00 GMT', now)).toBeNull();
  });
});
