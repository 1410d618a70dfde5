import { describe, expect, it } from 'vitest';
import {
  composeJson,
  composeNotification,
  composeSubject,
  composeText,
  formatBytes,
  formatDuration,
  formatTime,
  MAX_JSON_BYTES,
  MAX_TEXT_BYTES,
  type NotificationFacts,
  toAttributeValue,
  toPrintableAscii,
} from '../../lambdas/core/notification';
import { outcomes } from '../../lambdas/core/state';

const jobId = '3f9c2e1a-7b44-11f1-9a3e-0242ac120002';

function facts(overrides: Partial<NotificationFacts> = {}): NotificationFacts {
  return {
    outcome: 'succeeded',
    reason: null,
    advice: null,
    jobId,
    workspace: 'demo-ws',
    untrustedJobId: null,
    untrustedWorkspace: null,
    processId: 'ndvi-calc',
    status: 'successful',
    message: 'ZOO-Kernel successfully run your service!',
    created: '2026-11-30T09:12:04.311Z',
    started: '2026-11-30T09:12:04.311Z',
    finished: '2026-11-30T09:31:57.640Z',
    logLinks: 2,
    archive: {
      uri: 's3://archive-bucket/eodh-jobs/demo-ws/3f9c2e1a-7b44-11f1-9a3e-0242ac120002/',
      consoleUrl:
        'https://s3.console.aws.amazon.com/s3/buckets/archive-bucket?prefix=eodh-jobs/demo-ws/3f9c2e1a-7b44-11f1-9a3e-0242ac120002/',
      filesArchived: 3,
      filesSkipped: 0,
      bytesArchived: 47_213_377,
      filesFailed: 0,
      failures: [],
    },
    logTail: null,
    error: null,
    execution: null,
    stepFunctionsConsoleUrl: null,
    publishedAt: '2026-11-30T09:33:00.000Z',
    ...overrides,
  };
}

function escapedBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text));
}

const printableAscii = /^[\x20-\x7e]+$/;

describe('composeSubject', () => {
  it('formats process, outcome, workspace and short job ID', () => {
    expect(composeSubject('succeeded', 'ndvi-calc', 'demo-ws', jobId)).toBe(
      '[EODH] ndvi-calc succeeded (demo-ws, 3f9c2e1a)',
    );
  });

  it.each([
    ['succeeded', 'succeeded'],
    ['failed', 'failed'],
    ['dismissed', 'dismissed'],
    ['timed_out', 'timed out'],
    ['monitor_error', 'monitor error'],
  ] as const)('names outcome %s as "%s"', (outcome, words) => {
    expect(composeSubject(outcome, 'ndvi-calc', 'demo-ws', jobId)).toBe(
      `[EODH] ndvi-calc ${words} (demo-ws, 3f9c2e1a)`,
    );
  });

  it('uses "job" without a process ID', () => {
    expect(composeSubject('failed', null, 'demo-ws', jobId)).toBe('[EODH] job failed (demo-ws, 3f9c2e1a)');
  });

  it('fills empty fields', () => {
    expect(composeSubject('monitor_error', '', '', '')).toBe('[EODH] job monitor error (unknown, unknown)');
    expect(composeSubject('monitor_error', null, null, null)).toBe(
      '[EODH] job monitor error (unknown, unknown)',
    );
  });

  it('cuts a long process ID first and keeps the outcome', () => {
    const subject = composeSubject('monitor_error', 'p'.repeat(300), 'demo-ws', jobId);
    expect(subject).toHaveLength(99);
    expect(subject.startsWith('[EODH] ppp')).toBe(true);
    expect(subject.endsWith('... monitor error (demo-ws, 3f9c2e1a)')).toBe(true);
  });

  it('cuts the workspace when the process ID is already short', () => {
    const subject = composeSubject('timed_out', 'q'.repeat(300), 'w'.repeat(300), jobId);
    expect(subject.length).toBeLessThan(100);
    expect(subject).toContain(' timed out (www');
    expect(subject).toContain('qqqqqqqqq...');
    expect(subject.endsWith('..., 3f9c2e1a)')).toBe(true);
  });

  it('keeps a subject that is exactly 99 characters', () => {
    const base = composeSubject('failed', '', 'demo-ws', jobId).replace('job', '');
    const processId = 'x'.repeat(99 - base.length);
    const subject = composeSubject('failed', processId, 'demo-ws', jobId);
    expect(subject).toHaveLength(99);
    expect(subject).toContain(processId);
  });

  it('transliterates accented letters', () => {
    expect(composeSubject('succeeded', 'café-Straße', 'démo-ws', jobId)).toBe(
      '[EODH] cafe-Strasse succeeded (demo-ws, 3f9c2e1a)',
    );
  });

  it('joins multi-line values into one line', () => {
    expect(composeSubject('failed', 'ndvi\ncalc\r\n\tv2  ', 'demo-ws', jobId)).toBe(
      '[EODH] ndvi calc v2 failed (demo-ws, 3f9c2e1a)',
    );
  });

  it('removes emoji', () => {
    expect(composeSubject('succeeded', '🚀 ndvi 🛰️', 'demo-ws', jobId)).toBe(
      '[EODH] ndvi succeeded (demo-ws, 3f9c2e1a)',
    );
  });

  it('replaces right-to-left text that has no ASCII form', () => {
    expect(composeSubject('failed', 'معالجة الصور', 'סביבה', jobId)).toBe(
      '[EODH] job failed (unknown, 3f9c2e1a)',
    );
  });

  it('removes bidirectional overrides', () => {
    expect(composeSubject('failed', 'ndvi\u202egpj.exe', 'demo-ws', jobId)).toBe(
      '[EODH] ndvigpj.exe failed (demo-ws, 3f9c2e1a)',
    );
  });

  it('stays printable ASCII and short for hostile input', () => {
    const values = [
      '\u0000\u0007\u001b[31mred\u001b[0m',
      '\ud800 lone surrogate',
      '👩‍👩‍👧‍👦'.repeat(50),
      'a\u00a0b\u2003c',
      'x'.repeat(1_000),
      '\n\n\n',
      'שלום world',
    ];
    for (const processId of values) {
      for (const workspace of values) {
        const subject = composeSubject('monitor_error', processId, workspace, processId);
        expect(subject).toMatch(printableAscii);
        expect(subject.length).toBeLessThan(100);
        expect(subject).not.toMatch(/ {2}/);
        expect(subject).toContain(' monitor error (');
      }
    }
  });
});

describe('subject rules', () => {
  // SNS accepts a subject of printable ASCII that starts with a letter, digit or punctuation,
  // has no line breaks or control characters, and is shorter than 100 characters.
  const values = [
    null,
    '',
    ' ',
    '\r\n\t',
    'ndvi\ncalc\r\nv2',
    'Zürich Ørsted Łódź 東京',
    '🛰️🌍🚀',
    'x'.repeat(5_000),
    '\u0000\u001f\u007f\u0085\u2028\u2029',
    '\ud83d',
    '"quoted" <b>&amp;</b>',
  ];

  it.each(outcomes)('is valid for %s with any field values', (outcome) => {
    for (const value of values) {
      const subjects = [
        composeSubject(outcome, value, 'demo-ws', jobId),
        composeSubject(outcome, 'ndvi-calc', value, jobId),
        composeSubject(outcome, 'ndvi-calc', 'demo-ws', value),
        composeSubject(outcome, value, value, value),
      ];
      for (const subject of subjects) {
        expect(subject).toMatch(printableAscii);
        expect(subject.length).toBeGreaterThan(0);
        expect(subject.length).toBeLessThanOrEqual(99);
        expect(subject).toMatch(/^\[EODH\] /);
      }
    }
  });
});

describe('toPrintableAscii', () => {
  it('decomposes compatibility characters', () => {
    expect(toPrintableAscii('ﬁle ＡＢＣ ½')).toBe('file ABC 1/2');
  });

  it('replaces typographic punctuation', () => {
    expect(toPrintableAscii('“quoted” – it’s')).toBe('"quoted" - it\'s');
  });

  it('turns control characters into spaces', () => {
    expect(toPrintableAscii('a\u0000b\u0085c')).toBe('a b c');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [42, '42 s'],
    [487, '8 min 07 s'],
    [3_599, '59 min 59 s'],
    [3_720, '1 h 02 min'],
    [86_399, '23 h 59 min'],
    [273_600, '3 d 04 h'],
    [30 * 86_400, '30 d 00 h'],
  ])('formats %d s as "%s"', (seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1_000, '1.0 kB'],
    [47_213_377, '47.2 MB'],
    [999_960, '1.0 MB'],
    [2_147_483_648, '2.1 GB'],
    [2 ** 40, '1.1 TB'],
  ])('formats %d bytes as "%s"', (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });
});

describe('formatTime', () => {
  it('formats RFC 3339 in UTC', () => {
    expect(formatTime('2026-11-30T10:12:04.311+01:00')).toBe('2026-11-30 09:12:04 UTC');
  });

  it('shows text that is not a time', () => {
    expect(formatTime('yesterday\nnight')).toBe('yesterday night');
  });
});

describe('composeText', () => {
  it('lists job facts, duration and archive', () => {
    const text = composeText(facts());
    expect(text.split('\n').slice(0, 10)).toEqual([
      'The job succeeded.',
      '',
      `Job:        ${jobId}`,
      'Workspace:  demo-ws',
      'Process:    ndvi-calc',
      'Outcome:    succeeded (last job status: successful)',
      'Created:    2026-11-30 09:12:04 UTC',
      'Started:    2026-11-30 09:12:04 UTC',
      'Finished:   2026-11-30 09:31:57 UTC',
      'Duration:   19 min 53 s',
    ]);
    expect(text).toContain('Last status message:\n  ZOO-Kernel successfully run your service!');
    expect(text).toContain('  Files archived: 3 (47.2 MB)\n');
    expect(text).toContain(`  Location: s3://archive-bucket/eodh-jobs/demo-ws/${jobId}/`);
    expect(text).toContain(
      '  S3 console: https://s3.console.aws.amazon.com/s3/buckets/archive-bucket?prefix=',
    );
    expect(text).not.toContain('What to do next');
  });

  it('shows hours in the human form', () => {
    const text = composeText(facts({ started: '2026-11-30T08:00:00Z', finished: '2026-11-30T09:02:30Z' }));
    expect(text).toContain('Duration:   1 h 02 min');
  });

  it('counts running time when the job has not finished', () => {
    const text = composeText(
      facts({
        outcome: 'timed_out',
        finished: null,
        started: '2026-11-30T07:33:00Z',
        publishedAt: '2026-11-30T09:33:00Z',
      }),
    );
    expect(text).toContain('Duration:   2 h 00 min so far (not finished)');
  });

  it('counts files an earlier run archived', () => {
    const text = composeText(facts({ archive: { ...facts().archive, filesSkipped: 2 } }));
    expect(text).toContain('  Files archived: 3 (47.2 MB), 2 of them by an earlier run');
  });

  it('says when nothing was archived', () => {
    const text = composeText(
      facts({ archive: { ...facts().archive, filesArchived: 0, bytesArchived: 0, consoleUrl: null } }),
    );
    expect(text).toContain('Archive:\n  No job files were archived.\n  Location: s3://');
    expect(text).not.toContain('S3 console');
  });

  it('shows the first line of a failed job message', () => {
    const message =
      'Exception during execution...\nTraceback (most recent call last):\nRuntimeError: no red band';
    const text = composeText(facts({ outcome: 'failed', status: 'failed', message }));
    expect(text.startsWith('The job failed.\nStatus message: Exception during execution...\n')).toBe(true);
  });

  it('keeps the first 10 message lines', () => {
    const message = Array.from({ length: 15 }, (_, index) => `line ${index + 1}`).join('\n');
    const text = composeText(facts({ message }));
    expect(text).toContain('  line 10\n');
    expect(text).not.toContain('line 11');
  });

  it('removes control characters and ANSI escapes from the message', () => {
    const text = composeText(facts({ message: '\u001b[31mred\u001b[0m alert\u0007 \u202eevil' }));
    expect(text).toContain('  red alert evil\n');
  });

  it('lists the first 20 failures and counts the rest', () => {
    const failures = Array.from({ length: 20 }, (_, index) => ({
      key: `results/item/${index}.tif`,
      url: `https://demo-ws.eodatahub-workspaces.org.uk/files/${index}.tif`,
      reason: 'size mismatch: 10 bytes expected, 9 received',
    }));
    const text = composeText(facts({ archive: { ...facts().archive, filesFailed: 25, failures } }));
    expect(text).toContain('Files not archived: 25\n');
    expect(text).toContain(
      '  - results/item/0.tif: size mismatch: 10 bytes expected, 9 received (https://demo-ws.eodatahub-workspaces.org.uk/files/0.tif)',
    );
    expect(text).toContain('  - results/item/19.tif');
    expect(text).toContain('  ... and 5 more');
  });

  it('shows the log tail block', () => {
    const logTail = { key: 'logs/ndvi.log', lines: ['step 1', 'RuntimeError: no red band'] };
    const text = composeText(facts({ outcome: 'failed', status: 'failed', logTail }));
    expect(text).toContain('Last 2 lines of logs/ndvi.log:\n  step 1\n  RuntimeError: no red band\n');
  });

  it('says when the job published no logs', () => {
    const text = composeText(facts({ logLinks: 0 }));
    expect(text).toContain('No logs were published by the job.');
  });

  it('says nothing about logs while the job runs', () => {
    const text = composeText(facts({ outcome: 'timed_out', logLinks: null }));
    expect(text).not.toContain('log');
  });

  it('says why a failed job has no log tail', () => {
    const text = composeText(facts({ outcome: 'failed', status: 'failed', logLinks: 2, logTail: null }));
    expect(text).toContain('No log tail: none of the job logs was archived and readable.');
  });

  it('tells what to do after a monitor error', () => {
    const text = composeText(
      facts({
        outcome: 'monitor_error',
        reason: 'token rejected or job not found',
        advice: 'Check the execution history in the Step Functions console.',
        error: { name: 'auth_rejected', message: 'HTTP 403' },
        execution: 'job-3f9c2e1a',
        stepFunctionsConsoleUrl:
          'https://eu-west-2.console.aws.amazon.com/states/home?region=eu-west-2#/statemachines',
      }),
    );
    expect(
      text.startsWith(
        'The monitor could not follow the job to its end.\nReason: token rejected or job not found\n',
      ),
    ).toBe(true);
    expect(text).toContain('Execution:  job-3f9c2e1a\n');
    expect(text).toContain('History:    https://eu-west-2.console.aws.amazon.com/states/home');
    expect(text).toContain('Error: auth_rejected\n  HTTP 403\n');
    expect(
      text.endsWith('What to do next:\n  Check the execution history in the Step Functions console.\n'),
    ).toBe(true);
  });

  it('quotes a job ID from invalid input', () => {
    const text = composeText(
      facts({ jobId: null, workspace: null, untrustedJobId: 'bad\nid"', untrustedWorkspace: 'ws/../x' }),
    );
    expect(text).toContain('Job:        "bad\\nid\\"" (invalid)\n');
    expect(text).toContain('Workspace:  "ws/../x" (invalid)\n');
  });

  it('keeps unicode in the body', () => {
    const message = 'Verarbeitung fehlgeschlagen: Zürich_🛰.tif fehlt\n東京 tile 54SUE';
    const text = composeText(facts({ outcome: 'failed', status: 'failed', processId: 'ndvi-ß', message }));
    expect(text).toContain('Status message: Verarbeitung fehlgeschlagen: Zürich_🛰.tif fehlt\n');
    expect(text).toContain(
      'Last status message:\n  Verarbeitung fehlgeschlagen: Zürich_🛰.tif fehlt\n  東京 tile 54SUE\n',
    );
    expect(text).toContain('Process:    ndvi-ß\n');
    expect(text.isWellFormed()).toBe(true);
  });

  it('leaves out empty and blank messages', () => {
    for (const message of ['', ' \n\t\r\n ']) {
      const text = composeText(facts({ outcome: 'failed', status: 'failed', message }));
      expect(text).not.toContain('Status message:');
      expect(text).not.toContain('Last status message:');
    }
  });

  it('leaves out empty reason and advice', () => {
    const text = composeText(facts({ outcome: 'monitor_error', reason: '  ', advice: '\n\n' }));
    expect(text).not.toContain('Reason:');
    expect(text).not.toContain('What to do next');
  });

  it('says so when the failing log is empty', () => {
    const text = composeText(facts({ outcome: 'failed', logTail: { key: 'logs/ndvi.log', lines: [] } }));
    expect(text).toContain('The log logs/ndvi.log is empty.\n');
    expect(text).not.toContain('Last 0 lines');
  });

  it('joins a multi-line reason and error name into one line', () => {
    const text = composeText(
      facts({
        outcome: 'monitor_error',
        reason: 'first\nsecond\r\nthird',
        error: { name: 'Multi\nLine', message: 'a\n\n\nb' },
      }),
    );
    expect(text).toContain('Reason: first second third\n');
    expect(text).toContain('Error: Multi Line\n  a\n  b\n');
  });

  it('links the execution history', () => {
    const executionArn = `arn:aws:states:eu-west-2:123456789012:execution:EodhJobMonitor:${jobId}`;
    const text = composeText(
      facts({
        execution: jobId,
        executionArn,
        stepFunctionsConsoleUrl: `https://eu-west-2.console.aws.amazon.com/states/home?region=eu-west-2#/v2/executions/details/${executionArn}`,
      }),
    );
    expect(text).toContain(`Execution:  ${jobId}\n`);
    expect(text).toContain(
      `History:    https://eu-west-2.console.aws.amazon.com/states/home?region=eu-west-2#/v2/executions/details/${executionArn}\n`,
    );
  });

  it('writes unknown for missing identifiers', () => {
    const text = composeText(facts({ jobId: null, workspace: null, processId: null }));
    expect(text).toContain('Job:        unknown\nWorkspace:  unknown\nProcess:    unknown\n');
  });

  it('cuts the log tail from its oldest lines to fit', () => {
    const lines = Array.from({ length: 20 }, (_, index) => `${index}:${'🛰'.repeat(290)}`);
    const text = composeText(facts({ outcome: 'failed', logTail: { key: 'logs/ndvi.log', lines } }), 8_000);
    expect(escapedBytes(text)).toBeLessThanOrEqual(8_000);
    expect(text).toContain('19:🛰');
    expect(text).not.toContain('  0:🛰');
    expect(text).toMatch(/\(\d+ lines left out to keep the message under the 256 KiB SNS limit\)/);
    expect(text.startsWith('The job failed.')).toBe(true);
    expect(text).toContain('Location: s3://');
  });

  it('stays under the SNS budget with every section full', () => {
    const long = '"\\🛰'.repeat(2_000);
    const text = composeText(
      facts({
        outcome: 'monitor_error',
        reason: long,
        advice: long,
        processId: long,
        message: Array.from({ length: 50 }, () => long).join('\n'),
        error: { name: long, message: Array.from({ length: 50 }, () => long).join('\n') },
        execution: long,
        archive: {
          ...facts().archive,
          filesFailed: 10_000,
          failures: Array.from({ length: 50 }, () => ({ key: long, url: long, reason: long })),
        },
        logTail: { key: long, lines: Array.from({ length: 20 }, () => long) },
      }),
    );
    expect(escapedBytes(text)).toBeLessThanOrEqual(MAX_TEXT_BYTES);
    expect(text.isWellFormed()).toBe(true);
  });

  it('cuts at a code point boundary when fixed lines are too large', () => {
    const text = composeText(facts({ reason: '🛰'.repeat(500), advice: '🛰'.repeat(5_000) }), 1_000);
    expect(escapedBytes(text)).toBeLessThanOrEqual(1_000);
    expect(text.isWellFormed()).toBe(true);
    expect(text.endsWith('\n...\n')).toBe(true);
  });
});

describe('composeJson', () => {
  it('writes every field of version 1', () => {
    const logTail = { key: 'logs/ndvi.log', lines: ['RuntimeError: no red band'] };
    const failures = [
      {
        key: 'results/a.tif',
        url: 'https://demo-ws.eodatahub-workspaces.org.uk/files/a.tif',
        reason: 'HTTP 404',
      },
    ];
    const json = composeJson(
      facts({
        outcome: 'failed',
        status: 'failed',
        logTail,
        archive: { ...facts().archive, filesFailed: 1, failures },
        execution: jobId,
        executionArn: `arn:aws:states:eu-west-2:123456789012:execution:EodhJobMonitor:${jobId}`,
      }),
    );
    expect(json).toEqual({
      version: 1,
      outcome: 'failed',
      jobId,
      workspace: 'demo-ws',
      processId: 'ndvi-calc',
      status: 'failed',
      message: 'ZOO-Kernel successfully run your service!',
      created: '2026-11-30T09:12:04.311Z',
      started: '2026-11-30T09:12:04.311Z',
      finished: '2026-11-30T09:31:57.640Z',
      durationSeconds: 1_193,
      archive: {
        uri: `s3://archive-bucket/eodh-jobs/demo-ws/${jobId}/`,
        consoleUrl: `https://s3.console.aws.amazon.com/s3/buckets/archive-bucket?prefix=eodh-jobs/demo-ws/${jobId}/`,
        filesArchived: 3,
        filesSkipped: 0,
        bytesArchived: 47_213_377,
        filesFailed: 1,
        failures,
      },
      logTail: { log: 'logs/ndvi.log', lines: ['RuntimeError: no red band'] },
      error: null,
      execution: jobId,
      executionArn: `arn:aws:states:eu-west-2:123456789012:execution:EodhJobMonitor:${jobId}`,
      publishedAt: '2026-11-30T09:33:00.000Z',
    });
  });

  it('leaves durationSeconds null without a finish time', () => {
    expect(composeJson(facts({ finished: null })).durationSeconds).toBeNull();
  });

  it('leaves durationSeconds null when finished precedes started', () => {
    expect(composeJson(facts({ finished: '2026-11-30T09:00:00Z' })).durationSeconds).toBeNull();
  });

  it('shrinks lists to fit its budget', () => {
    const long = 'é'.repeat(1_000);
    const json = composeJson(
      facts({
        archive: {
          ...facts().archive,
          filesFailed: 20,
          failures: Array.from({ length: 20 }, (_, index) => ({ key: `k${index}`, url: long, reason: long })),
        },
        logTail: { key: 'logs/a.log', lines: Array.from({ length: 20 }, () => 'x'.repeat(300)) },
      }),
    );
    expect(escapedBytes(JSON.stringify(json))).toBeLessThanOrEqual(MAX_JSON_BYTES);
    const archive = json.archive as { failures: unknown[]; filesFailed: number };
    expect(archive.failures.length).toBeLessThan(20);
    expect(archive.filesFailed).toBe(20);
  });

  it('keeps only identifying fields as a last resort', () => {
    const json = composeJson(facts(), 200);
    expect(json).toEqual({
      version: 1,
      outcome: 'succeeded',
      jobId,
      workspace: 'demo-ws',
      truncated: true,
      publishedAt: '2026-11-30T09:33:00.000Z',
    });
  });
});

describe('toAttributeValue', () => {
  it('replaces empty values with "unknown"', () => {
    expect(toAttributeValue(null)).toBe('unknown');
    expect(toAttributeValue('')).toBe('unknown');
    expect(toAttributeValue(' \n\t')).toBe('unknown');
  });

  it('keeps unicode and joins lines', () => {
    expect(toAttributeValue(' ndvi\ncalc 🛰 ')).toBe('ndvi calc 🛰');
  });

  it('cuts to 256 characters', () => {
    expect(Array.from(toAttributeValue('p'.repeat(1_000)))).toHaveLength(256);
  });
});

describe('composeNotification', () => {
  it.each(outcomes)('sets the %s outcome attribute', (outcome) => {
    const message = composeNotification(facts({ outcome, processId: null }));
    expect(message.attributes).toEqual({ outcome, workspace: 'demo-ws', processId: 'unknown' });
  });

  it('puts an invalid job ID in the subject, sanitized', () => {
    const message = composeNotification(
      facts({
        outcome: 'monitor_error',
        jobId: null,
        workspace: null,
        untrustedJobId: 'abc\ndef-ghi',
        untrustedWorkspace: 'Démo',
      }),
    );
    expect(message.subject).toBe('[EODH] ndvi-calc monitor error (Demo, abcdef-g)');
    expect(message.attributes.workspace).toBe('Démo');
    expect(message.json.jobId).toBeNull();
  });
});
