import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  LOG_LINE_MAX_CHARS,
  type LogScan,
  logName,
  logNamesInLinkOrder,
  MAX_LOG_BYTES,
  orderLogRecords,
  readFailingLogTail,
  scanLog,
  selectFailingLog,
} from '../../lambdas/core/log-tail';
import type { ManifestRecord } from '../../lambdas/core/manifest';
import { createMemoryStore } from './support/memory-store';

const fixture = (name: string) => new URL(`../fixtures/eodh/${name}`, import.meta.url);

function logRecord(name: string, overrides: Partial<ManifestRecord> = {}): ManifestRecord {
  return {
    key: `logs/${name}`,
    source: `https://eodatahub.org.uk/api/catalogue/stac/catalogs/user/catalogs/demo-ws/jobs/job-1/${name}`,
    kind: 'log',
    bytes: 100,
    sha256: null,
    contentType: 'text/plain',
    outcome: 'archived',
    ...overrides,
  };
}

function scan(name: string, markerDistance: number | null): LogScan {
  return { key: `logs/${name}`, name, markerDistance, tail: [name] };
}

const silent = { warn: () => {} };

describe('scanLog', () => {
  it('keeps the last 20 lines', () => {
    const text = Array.from({ length: 30 }, (_, index) => `line ${index + 1}`).join('\n');
    const result = scanLog('logs/a.log', `${text}\n\n\n`);
    expect(result.tail).toHaveLength(20);
    expect(result.tail[0]).toBe('line 11');
    expect(result.tail.at(-1)).toBe('line 30');
    expect(result.name).toBe('a.log');
  });

  it('cuts long lines to 300 characters', () => {
    const result = scanLog('logs/a.log', `${'x'.repeat(1_000)}\nshort`);
    expect(Array.from(result.tail[0] ?? '')).toHaveLength(LOG_LINE_MAX_CHARS);
    expect(result.tail[0]?.endsWith('...')).toBe(true);
  });

  it('cuts without splitting a surrogate pair', () => {
    const result = scanLog('logs/a.log', '🛰'.repeat(400));
    expect(result.tail[0]?.isWellFormed()).toBe(true);
  });

  it('measures the last error marker from the end', () => {
    expect(
      scanLog('logs/a.log', 'start\nTraceback (most recent call last):\nValueError: x\ndone\n')
        .markerDistance,
    ).toBe(1);
    expect(scanLog('logs/a.log', 'ok\nstep FAILED').markerDistance).toBe(0);
    expect(scanLog('logs/a.log', 'ERROR disk full\nok\nok').markerDistance).toBe(2);
    expect(scanLog('logs/a.log', 'all good\nerror handling ok').markerDistance).toBeNull();
  });

  it('removes colour codes and carriage returns', () => {
    const result = scanLog('logs/a.log', '\u001b[31mred\u001b[0m\r\nnext\r');
    expect(result.tail).toEqual(['red', 'next']);
  });

  it('reads the recorded fixture', () => {
    const result = scanLog('logs/ndvi.log', readFileSync(fixture('ndvi.log'), 'utf8'));
    expect(result.tail).toHaveLength(4);
    expect(result.tail.at(-1)).toBe('2026-11-30T09:30:03Z INFO  wrote catalog.json with 2 items');
    expect(result.markerDistance).toBeNull();
  });
});

describe('selectFailingLog', () => {
  it('picks the log with a marker nearest its end', () => {
    const picked = selectFailingLog([
      scan('stage.log', 5),
      scan('ndvi.log', 0),
      scan('node_stage_out.log', 2),
    ]);
    expect(picked?.name).toBe('ndvi.log');
  });

  it('picks the later log on a tie', () => {
    expect(selectFailingLog([scan('a.log', 1), scan('b.log', 1)])?.name).toBe('b.log');
  });

  it('picks the last step log without markers', () => {
    const picked = selectFailingLog([
      scan('node_stage_in.log', null),
      scan('fetch.log', null),
      scan('ndvi.log', null),
      scan('node_stage_out.log', null),
    ]);
    expect(picked?.name).toBe('ndvi.log');
  });

  it('falls back to a stage log', () => {
    expect(selectFailingLog([scan('node_stage_in.log', null), scan('node_stage_out.log', null)])?.name).toBe(
      'node_stage_out.log',
    );
  });

  it('returns null without logs', () => {
    expect(selectFailingLog([])).toBeNull();
  });
});

describe('logNamesInLinkOrder', () => {
  it('reads related text/plain links of a status document', () => {
    const status = JSON.parse(readFileSync(fixture('status-successful.json'), 'utf8'));
    expect(logNamesInLinkOrder(status)).toEqual(['ndvi.log', 'node_stage_out.log']);
  });

  it.each([null, 'x', { links: 'x' }, { links: [null, 1, { rel: 'related' }] }])(
    'ignores malformed %j',
    (value) => {
      expect(logNamesInLinkOrder(value)).toEqual([]);
    },
  );

  it('skips related links of other types', () => {
    const status = { links: [{ rel: 'related', type: 'text/html', href: 'https://x/report.html' }] };
    expect(logNamesInLinkOrder(status)).toEqual([]);
  });
});

describe('logName', () => {
  it('decodes the last path segment', () => {
    expect(logName('https://x/jobs/1/step%201.log?download=1')).toBe('step 1.log');
    expect(logName('logs/bad%zz.log')).toBe('bad%zz.log');
  });
});

describe('orderLogRecords', () => {
  it('orders by link position and keeps unknown names last', () => {
    const ordered = orderLogRecords(
      [
        logRecord('node_stage_out.log'),
        logRecord('extra.log'),
        logRecord('ndvi.log'),
        logRecord('fetch.log'),
      ],
      ['fetch.log', 'ndvi.log', 'node_stage_out.log'],
    );
    expect(ordered.map((entry) => entry.key)).toEqual([
      'logs/fetch.log',
      'logs/ndvi.log',
      'logs/node_stage_out.log',
      'logs/extra.log',
    ]);
  });
});

describe('readFailingLogTail', () => {
  it('reads the failing step from the store', async () => {
    const store = createMemoryStore();
    await store.putObject('p/logs/fetch.log', 'fetched 4 bands\n', { contentType: 'text/plain' });
    await store.putObject(
      'p/logs/ndvi.log',
      'computing\nTraceback (most recent call last):\nRuntimeError: no red band\n',
      {
        contentType: 'text/plain',
      },
    );
    await store.putObject('p/logs/node_stage_out.log', 'nothing to stage\n', { contentType: 'text/plain' });
    const tail = await readFailingLogTail(
      store,
      'p/',
      [
        logRecord('fetch.log'),
        logRecord('ndvi.log', { outcome: 'skipped' }),
        logRecord('node_stage_out.log'),
      ],
      silent,
    );
    expect(tail).toEqual({
      key: 'logs/ndvi.log',
      lines: ['computing', 'Traceback (most recent call last):', 'RuntimeError: no red band'],
    });
  });

  it('skips failed, missing, oversized and unreadable logs', async () => {
    const store = createMemoryStore();
    await store.putObject('p/logs/first.log', 'first step done\n', { contentType: 'text/plain' });
    const broken = {
      ...store,
      getObject: async (key: string) => {
        if (key.endsWith('broken.log')) throw new Error('read failed');
        return store.getObject(key);
      },
    };
    const warnings: string[] = [];
    const tail = await readFailingLogTail(
      broken,
      'p/',
      [
        logRecord('first.log'),
        logRecord('failed.log', { outcome: 'failed' }),
        logRecord('missing.log'),
        logRecord('huge.log', { bytes: MAX_LOG_BYTES + 1 }),
        logRecord('broken.log'),
      ],
      { warn: (message) => warnings.push(message) },
    );
    expect(tail).toEqual({ key: 'logs/first.log', lines: ['first step done'] });
    expect(warnings).toEqual([
      'archived log not found',
      'log too large for the tail',
      'archived log not readable',
    ]);
  });

  it('returns null when no log is readable', async () => {
    expect(await readFailingLogTail(createMemoryStore(), 'p/', [logRecord('a.log')], silent)).toBeNull();
  });
});
