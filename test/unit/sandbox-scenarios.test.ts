import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScenarioError } from '../../lib/sandbox/errors';
import { listScenarios, loadScenario, parseScenario } from '../../lib/sandbox/scenarios';

const realTimeNames = [
  'bad-checksum',
  'cross-host-redirect',
  'demo',
  'disallowed-host',
  'dismissed',
  'failed',
  'failed-bare',
  'large-file',
  'logs-late',
  'many-items',
  'nested-catalogs',
  'odd-content',
  'odd-names',
  'sign-in-redirect',
  'truncated-transfer',
];
/** Scenarios of hours to weeks, run with a virtual clock. */
const virtualTimeNames = [
  'burst-5xx',
  'logs-never',
  'long-24h',
  'long-30d',
  'malformed-json',
  'retry-after-date',
  'retry-after-seconds',
  'stall-after-headers',
  'stuck-accepted',
  'token-rotation-7d',
  'vanished',
];
const builtInNames = [...realTimeNames, ...virtualTimeNames].sort();
const successMessage = 'ZOO-Kernel successfully run your service!';

/** Builds a valid scenario that each case breaks in one field. */
function validScenario(): Record<string, unknown> {
  return {
    name: 'sample',
    description: 'A job that succeeds after one second.',
    processId: 'ndvi-calc',
    timeline: [
      { at: 0.5, status: 'running', progress: 10, message: 'starting execution' },
      { at: 1, status: 'successful', message: successMessage },
    ],
    results: {
      items: [
        {
          id: 'item-1',
          assets: { data: { file: 'data.tif', type: 'image/tiff', content: { bytes: 10, seed: 'item-1' } } },
        },
      ],
    },
    logs: [{ name: 'step.log', text: 'done\n' }],
  };
}

function errorOf(action: () => unknown): ScenarioError {
  try {
    action();
  } catch (error) {
    if (error instanceof ScenarioError) {
      return error;
    }
    throw error;
  }
  throw new Error('expected a ScenarioError');
}

describe('listScenarios', () => {
  it('lists the built-in scenarios', async () => {
    expect(await listScenarios()).toEqual(builtInNames);
  });
});

describe('loadScenario', () => {
  it.each(realTimeNames)('loads and validates built-in %s', async (name) => {
    const scenario = await loadScenario(name);

    expect(scenario.name).toBe(name);
    expect(scenario.processId).toBe('ndvi-calc');
    expect(scenario.description.length).toBeGreaterThan(20);
    // The demo polls every 1-2 seconds in real time, so every built-in must end within 10 seconds.
    expect(scenario.timeline.at(-1)?.at).toBeLessThanOrEqual(10);
  });

  it.each(virtualTimeNames)('loads and validates virtual-time built-in %s', async (name) => {
    const scenario = await loadScenario(name);

    expect(scenario.name).toBe(name);
    expect(scenario.processId).toBe('ndvi-calc');
    expect(scenario.description.length).toBeGreaterThan(20);
    expect(scenario.timeline.at(-1)?.at).toBeGreaterThanOrEqual(60);
  });

  it('gives demo the EODH progress steps', async () => {
    const demo = await loadScenario('demo');

    expect(demo.timeline.map((entry) => entry.progress ?? entry.status)).toEqual([
      2,
      5,
      15,
      20,
      23,
      90,
      97,
      99,
      'successful',
    ]);
    expect(demo.logs.map((log) => log.name)).toEqual(['ndvi.log', 'node_stage_out.log']);
    const results = demo.results;
    expect(typeof results === 'string' ? [] : results.items.map((item) => Object.keys(item.assets))).toEqual([
      ['data', 'thumbnail'],
      ['data', 'thumbnail'],
    ]);
  });

  it('lists the built-ins for an unknown name', async () => {
    await expect(loadScenario('slow')).rejects.toThrow(
      `unknown scenario "slow"; built-in scenarios: ${builtInNames.join(', ')}`,
    );
    await expect(loadScenario('slow')).rejects.toMatchObject({ name: 'ScenarioError' });
  });

  it('loads a scenario file by path', async () => {
    const scenario = await loadScenario('test/fixtures/sandbox/raw-override.json');

    expect(scenario.name).toBe('raw-override');
    expect(scenario.raw.map((override) => override.target)).toEqual([
      'status',
      'status',
      'item:scene-1',
      'asset:scene-1/data',
      'log:step.log',
    ]);
    expect(scenario.raw[0]?.from).toBe(0);
  });

  it('accepts the example in the format guide', async () => {
    const guide = await readFile('lib/sandbox/scenarios/README.md', 'utf8');
    const example = /```json\n([\s\S]*?)\n```/.exec(guide)?.[1];

    const scenario = parseScenario(example, 'README.md example');

    expect(scenario.name).toBe('flaky-large');
    expect(scenario.raw[0]?.count).toBe(2);
  });

  it('names the file and field of an invalid value', async () => {
    const file = 'test/fixtures/sandbox/invalid-progress.json';

    await expect(loadScenario(file)).rejects.toThrow(
      `${file}: timeline.1.progress: Invalid input: expected number, received string`,
    );
  });

  describe('with broken files', () => {
    let directory: string;

    beforeEach(async () => {
      directory = await mkdtemp(join(tmpdir(), 'sandbox-scenarios-'));
    });

    afterEach(async () => {
      await rm(directory, { recursive: true, force: true });
    });

    it('names the file of invalid JSON', async () => {
      const file = join(directory, 'truncated.json');
      await writeFile(file, '{ "name": "truncated", "description": ');

      await expect(loadScenario(file)).rejects.toThrow(new RegExp(`^${file}: invalid JSON: `));
    });

    it('names a file that does not exist', async () => {
      const file = join(directory, 'missing.json');

      await expect(loadScenario(file)).rejects.toThrow(`${file}: cannot read scenario file (ENOENT)`);
    });
  });
});

describe('parseScenario', () => {
  it('applies defaults', () => {
    const scenario = parseScenario(
      {
        name: 'minimal',
        description: 'Only the required fields.',
        processId: 'p',
        timeline: [{ at: 0, status: 'running', message: 'm' }],
      },
      'minimal.json',
    );

    expect(scenario.results).toBe('none');
    expect(scenario.logs).toEqual([]);
    expect(scenario.raw).toEqual([]);
    expect(scenario.inputs).toEqual({});
  });

  it('accepts the valid sample', () => {
    expect(parseScenario(validScenario(), 'sample.json').name).toBe('sample');
  });

  const cases: [string, (scenario: Record<string, unknown>) => void, string][] = [
    [
      'unknown field',
      (scenario) => {
        scenario.timout = 5;
      },
      '(top level): Unrecognized key: "timout"',
    ],
    [
      'missing processId',
      (scenario) => {
        delete scenario.processId;
      },
      'processId: Invalid input: expected string, received undefined',
    ],
    [
      'path in processId',
      (scenario) => {
        scenario.processId = '../ndvi';
      },
      'processId: must start with a letter or digit',
    ],
    [
      'progress on a terminal entry',
      (scenario) => {
        scenario.timeline = [{ at: 1, status: 'successful', progress: 100, message: successMessage }];
      },
      'timeline.0.progress: must be absent on a "successful" entry',
    ],
    [
      'entries out of order',
      (scenario) => {
        scenario.timeline = [
          { at: 2, status: 'running', message: 'a' },
          { at: 1, status: 'running', message: 'b' },
        ];
      },
      'timeline.1.at: must not be earlier than the previous entry (2)',
    ],
    [
      'status changing after the end',
      (scenario) => {
        scenario.timeline = [
          { at: 1, status: 'failed', message: 'a' },
          { at: 2, status: 'successful', message: 'b' },
        ];
      },
      'timeline.1.status: must stay "failed" once the job has finished',
    ],
    [
      'link to an undefined log',
      (scenario) => {
        scenario.timeline = [{ at: 1, status: 'successful', message: 'a', links: { logs: ['other.log'] } }];
      },
      'timeline.0.links.logs: log "other.log" is not defined in "logs"',
    ],
    [
      'log name without .log',
      (scenario) => {
        scenario.logs = [{ name: 'step.txt', text: '' }];
      },
      'logs.0.name: must be a file name ending in ".log"',
    ],
    [
      'content of no known kind',
      (scenario) => {
        scenario.results = {
          items: [
            { id: 'a', assets: { data: { file: 'a.tif', type: 'image/tiff', content: { size: 10 } } } },
          ],
        };
      },
      'results.items.0.assets.data.content: must be one of { "bytes", "seed" }, { "text" } or { "base64" }',
    ],
    [
      'negative byte count',
      (scenario) => {
        scenario.results = {
          items: [
            { id: 'a', assets: { data: { file: 'a.tif', type: 't', content: { bytes: -1, seed: 's' } } } },
          ],
        };
      },
      'results.items.0.assets.data.content.bytes: Too small: expected number to be >=0',
    ],
    [
      'wrong type deep in an item',
      (scenario) => {
        scenario.results = {
          items: [{ id: 'a', assets: { data: { file: 'a.tif', type: 5, content: { text: '' } } } }],
        };
      },
      'results.items.0.assets.data.type: Invalid input: expected string, received number',
    ],
    [
      'results of no known form',
      (scenario) => {
        scenario.results = 'missing';
      },
      'results: must be "empty", "none" or { "items": [...] }',
    ],
    [
      'override of an unknown item',
      (scenario) => {
        scenario.raw = [{ target: 'item:item-2', response: { status: 500 } }];
      },
      'raw.0.target: "item:item-2" names no log, item or asset of this scenario',
    ],
    [
      'override with response and hang',
      (scenario) => {
        scenario.raw = [{ target: 'status', hang: true, response: { status: 200 } }];
      },
      'raw.0: must have exactly one of "response" and "hang"',
    ],
    [
      'override window that ends before it starts',
      (scenario) => {
        scenario.raw = [{ target: 'results', from: 5, until: 5, response: { status: 503 } }];
      },
      'raw.0.until: must be later than "from"',
    ],
    [
      'override target of no known kind',
      (scenario) => {
        scenario.raw = [{ target: 'jobs', response: { status: 503 } }];
      },
      'raw.0.target: must be "status", "results"',
    ],
  ];

  it.each(cases)('rejects %s', (_case, breakScenario, expected) => {
    const scenario = validScenario();
    breakScenario(scenario);

    const error = errorOf(() => parseScenario(scenario, 'sample.json'));

    expect(error.name).toBe('ScenarioError');
    expect(error.message).toContain(`sample.json: ${expected}`);
  });

  it('lists every problem in one message', () => {
    const scenario = validScenario();
    scenario.processId = 7;
    scenario.description = '';

    const error = errorOf(() => parseScenario(scenario, 'sample.json'));

    expect(error.message).toMatch(
      /description: .*; processId: Invalid input: expected string, received number/,
    );
  });
});
