import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  loadScenario,
  type Sandbox,
  ScenarioError,
  type ScenarioInput,
  startSandbox,
} from '../../lib/sandbox';
import { fillHttpDates, rotatedToken, tokenIndexOf } from '../../lib/sandbox/http';
import { parseScenario } from '../../lib/sandbox/scenarios';

const submittedAt = Date.parse('2026-11-30T09:12:04.311Z');
const day = 86_400;

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

function get(url: string, token: string): Promise<Response> {
  return fetch(url, { headers: { authorization: `Bearer ${token}` } });
}

const rotation: ScenarioInput = {
  name: 'rotation',
  description: 'token expires on day 3, a new one is stored on day 4',
  processId: 'ndvi-calc',
  timeline: [{ at: 6 * day, status: 'successful', message: 'done' }],
  tokens: [{ expiresAt: 3 * day }, { storedAt: 4 * day }],
};

describe('sandbox token rotation', () => {
  it('hands out the latest stored token', async () => {
    const job = await sandbox.submit(rotation);

    expect(sandbox.currentToken(job.jobId)).toBe('test-token');
    at(4 * day - 1);
    expect(sandbox.currentToken(job.jobId)).toBe('test-token');
    at(4 * day);
    expect(sandbox.currentToken(job.jobId)).toBe('test-token.rotated-1');
  });

  it('answers 403 to an expired token and 200 to the new one', async () => {
    const job = await sandbox.submit(rotation);

    at(3 * day - 1);
    expect((await get(job.statusUrl, 'test-token')).status).toBe(200);
    at(3 * day);
    expect((await get(job.statusUrl, 'test-token')).status).toBe(403);
    expect((await get(job.statusUrl, 'test-token.rotated-1')).status).toBe(403);
    at(4 * day);
    expect((await get(job.statusUrl, sandbox.currentToken(job.jobId))).status).toBe(200);
  });

  it('rejects a token the rotation does not have', async () => {
    const job = await sandbox.submit(rotation);
    at(5 * day);

    expect((await get(job.statusUrl, 'test-token.rotated-2')).status).toBe(403);
    expect((await get(job.statusUrl, 'other-token.rotated-1')).status).toBe(403);
  });

  it('accepts every sandbox token for a job without rotation', async () => {
    const job = await sandbox.submit('demo');

    expect(sandbox.currentToken(job.jobId)).toBe('test-token');
    expect((await get(job.statusUrl, 'test-token.rotated-1')).status).toBe(200);
  });

  it.each([
    [[{ storedAt: 5 }], 'tokens.0.storedAt: must be 0'],
    [[{}, { storedAt: 10 }, { storedAt: 5 }], 'tokens.2.storedAt: must not be earlier'],
    [[{ expiresAt: 0 }], 'tokens.0.expiresAt: must be later than "storedAt"'],
  ])('rejects the token list %j', (tokens, message) => {
    expect(() => parseScenario({ ...rotation, tokens }, 'rotation')).toThrow(ScenarioError);
    expect(() => parseScenario({ ...rotation, tokens }, 'rotation')).toThrow(message);
  });
});

describe('tokenIndexOf', () => {
  it.each([
    ['Bearer test-token', 0],
    ['bearer test-token.rotated-3', 3],
    ['Bearer test-token.rotated-0', null],
    ['Bearer test-token.rotated-x', null],
    ['Bearer test-tokenX.rotated-1', null],
    ['Basic test-token', null],
    [undefined, null],
  ])('reads %s as %s', (header, expected) => {
    expect(tokenIndexOf(header, 'test-token')).toBe(expected);
  });

  it('round-trips rotatedToken', () => {
    expect(tokenIndexOf(`Bearer ${rotatedToken('test-token', 12)}`, 'test-token')).toBe(12);
  });
});

describe('sandbox time-driven responses', () => {
  it('fills Retry-After dates from the sandbox clock', async () => {
    const job = await sandbox.submit({
      name: 'dated',
      description: '429 with a dated Retry-After',
      processId: 'ndvi-calc',
      timeline: [{ at: 60, status: 'successful', message: 'done' }],
      raw: [
        {
          target: 'status',
          count: 1,
          response: { status: 429, headers: { 'retry-after': '{{httpDate+120}}' }, body: '' },
        },
      ],
    });
    at(10);

    const response = await get(job.statusUrl, 'test-token');

    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe(new Date(submittedAt + 130_000).toUTCString());
  });

  it('formats offsets in both directions', () => {
    const nowMs = Date.parse('2026-12-01T00:00:00Z');

    expect(fillHttpDates('{{httpDate}}|{{httpDate-60}}|{{httpDate+3600}}', nowMs)).toBe(
      'Tue, 01 Dec 2026 00:00:00 GMT|Mon, 30 Nov 2026 23:59:00 GMT|Tue, 01 Dec 2026 01:00:00 GMT',
    );
  });

  it('stalls a body after the headers', async () => {
    const job = await sandbox.submit({
      name: 'stall',
      description: 'status body stalls',
      processId: 'ndvi-calc',
      timeline: [{ at: 60, status: 'successful', message: 'done' }],
      raw: [
        {
          target: 'status',
          count: 1,
          response: {
            status: 200,
            headers: { 'content-type': 'application/json' },
            body: '{"status":"running"}',
            stallAt: 5,
          },
        },
      ],
    });

    const outcome = await new Promise<{ status: number; received: string; timedOut: boolean }>(
      (resolve, reject) => {
        const call = request(
          job.statusUrl,
          { headers: { authorization: 'Bearer test-token' } },
          (response) => {
            let received = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => {
              received += chunk;
            });
            response.setTimeout(300, () => {
              resolve({ status: response.statusCode ?? 0, received, timedOut: true });
              call.destroy();
            });
            response.on('end', () =>
              resolve({ status: response.statusCode ?? 0, received, timedOut: false }),
            );
          },
        );
        call.on('error', reject);
        call.end();
      },
    );

    expect(outcome).toEqual({ status: 200, received: '{"sta', timedOut: true });
  });

  it('rejects stallAt together with truncateAt', () => {
    expect(() =>
      parseScenario(
        {
          name: 'both',
          description: 'both',
          processId: 'ndvi-calc',
          timeline: [{ at: 1, status: 'successful', message: 'done' }],
          raw: [{ target: 'status', response: { status: 200, body: 'abc', truncateAt: 1, stallAt: 1 } }],
        },
        'both',
      ),
    ).toThrow('raw.0.response.stallAt: must not be set together with "truncateAt"');
  });

  it('accepts timelines of 60 days', async () => {
    await expect(loadScenario('long-30d')).resolves.toMatchObject({ name: 'long-30d' });
    expect(() =>
      parseScenario(
        {
          name: 'too-long',
          description: 'past 60 days',
          processId: 'ndvi-calc',
          timeline: [{ at: 61 * day, status: 'successful', message: 'done' }],
        },
        'too-long',
      ),
    ).toThrow('timeline.0.at');
  });
});
