import { z } from 'zod';

/**
 * The scenario file format: what a scripted job reports over time, what it produces, and which
 * responses are replaced verbatim. `scenarios/README.md` describes it with an example.
 */

export const scenarioStatuses = [
  'accepted',
  'running',
  'paused',
  'successful',
  'failed',
  'dismissed',
] as const;
export type ScenarioStatus = (typeof scenarioStatuses)[number];

const terminalScenarioStatuses: readonly ScenarioStatus[] = ['successful', 'failed', 'dismissed'];

export function isTerminalStatus(status: ScenarioStatus): boolean {
  return terminalScenarioStatuses.includes(status);
}

/** Safe single path segment: it becomes part of URLs and of archive keys downstream. */
const pathSegment = z
  .string()
  .max(200)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
    'must start with a letter or digit and contain only letters, digits, ".", "_" or "-"',
  );

const logName = z
  .string()
  .max(200)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]*\.log$/,
    'must be a file name ending in ".log" made of letters, digits, ".", "_" or "-"',
  );

/** Seconds after submission. A week is far beyond any scenario a test or the demo needs. */
const secondsAfterSubmission = z.number().min(0).max(604_800);

const byteCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A size from an environment variable, so tests stay small and a benchmark can ask for gigabytes. */
const envByteCount = z.strictObject({
  env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
  default: byteCount,
});

const generatedContent = z.strictObject({
  bytes: z.union([byteCount, envByteCount], {
    error: 'must be a whole number of bytes or { "env": NAME, "default": BYTES }',
  }),
  seed: z.string().min(1),
});

const textContent = z.strictObject({ text: z.string() });

const base64Content = z.strictObject({
  base64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be standard base64'),
});

const assetContent = z.union([generatedContent, textContent, base64Content], {
  error: 'must be one of { "bytes", "seed" }, { "text" } or { "base64" }',
});

const assetSchema = z.strictObject({
  file: pathSegment,
  type: z.string().min(1),
  roles: z.array(z.string().min(1)).default([]),
  title: z.string().optional(),
  content: assetContent,
  /** `true` writes the real size into the item; a number is written as given, right or wrong. */
  'file:size': z.union([z.literal(true), byteCount]).optional(),
  /** `true` writes the real SHA-256 multihash into the item; a string is written as given. */
  'file:checksum': z.union([z.literal(true), z.string().min(1)]).optional(),
});

const itemSchema = z.strictObject({
  id: pathSegment,
  datetime: z.iso.datetime({ offset: true }).optional(),
  bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  assets: z.record(pathSegment, assetSchema),
});

const resultsSchema = z.union(
  [
    z.literal('empty'),
    z.literal('none'),
    z.strictObject({
      title: z.string().optional(),
      description: z.string().optional(),
      items: z.array(itemSchema),
    }),
  ],
  { error: 'must be "empty", "none" or { "items": [...] }' },
);

const timelineLinks = z.strictObject({
  monitor: z.boolean().optional(),
  results: z.boolean().optional(),
  logs: z.union([z.boolean(), z.array(logName)]).optional(),
  parent: z.boolean().optional(),
});

const timelineEntry = z.strictObject({
  at: secondsAfterSubmission,
  status: z.enum(scenarioStatuses),
  progress: z.number().int().min(0).max(100).optional(),
  message: z.string(),
  links: timelineLinks.optional(),
});

const rawResponse = z.strictObject({
  status: z.number().int().min(200).max(599),
  headers: z
    .record(z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name'), z.string())
    .default({}),
  body: z.string().default(''),
  /** Bytes of the body sent before the connection is cut; `Content-Length` still announces the whole body. */
  truncateAt: byteCount.optional(),
});

/** `status`, `results`, `log:<name>`, `item:<itemId>` or `asset:<itemId>/<assetKey>`. */
const rawTarget = z
  .string()
  .regex(
    /^(status|results|log:[^/]+|item:[^/]+|asset:[^/]+\/[^/]+)$/,
    'must be "status", "results", "log:<name>", "item:<itemId>" or "asset:<itemId>/<assetKey>"',
  );

const rawOverride = z
  .strictObject({
    target: rawTarget,
    from: secondsAfterSubmission.default(0),
    until: secondsAfterSubmission.optional(),
    /** Replace only the first N matching requests in the window. */
    count: z.number().int().min(1).optional(),
    response: rawResponse.optional(),
    /** Whether to accept the request and never respond, until the client gives up or the sandbox closes. */
    hang: z.literal(true).optional(),
  })
  .superRefine((override, ctx) => {
    if ((override.response === undefined) === (override.hang === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'must have exactly one of "response" and "hang"' });
    }
    if (override.until !== undefined && override.until <= override.from) {
      ctx.addIssue({ code: 'custom', path: ['until'], message: 'must be later than "from"' });
    }
  });

export const scenarioSchema = z
  .strictObject({
    name: pathSegment,
    description: z.string().min(1),
    processId: pathSegment,
    /** Sent as the execute request's `inputs` by `Sandbox.submit`. */
    inputs: z.record(z.string(), z.unknown()).default({}),
    timeline: z.array(timelineEntry).min(1),
    results: resultsSchema.default('none'),
    logs: z.array(z.strictObject({ name: logName, text: z.string() })).default([]),
    raw: z.array(rawOverride).default([]),
  })
  .superRefine(checkScenarioConsistency);

export type Scenario = z.output<typeof scenarioSchema>;
/** A scenario as written, before defaults are applied; `Scenario` values are valid inputs too. */
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type TimelineEntry = Scenario['timeline'][number];
export type TimelineLinks = NonNullable<TimelineEntry['links']>;
export type ScenarioItem = Exclude<Scenario['results'], string>['items'][number];
export type ScenarioAsset = ScenarioItem['assets'][string];
export type AssetContent = ScenarioAsset['content'];
export type RawOverride = Scenario['raw'][number];
export type RawResponse = NonNullable<RawOverride['response']>;

/** Cross-field rules that a per-field schema cannot express. */
function checkScenarioConsistency(scenario: Scenario, ctx: z.RefinementCtx): void {
  checkTimeline(scenario, ctx);

  const logNames = new Set<string>();
  scenario.logs.forEach((log, index) => {
    if (logNames.has(log.name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['logs', index, 'name'],
        message: `duplicate log name "${log.name}"`,
      });
    }
    logNames.add(log.name);
  });
  scenario.timeline.forEach((entry, index) => {
    const logs = entry.links?.logs;
    if (!Array.isArray(logs)) {
      return;
    }
    for (const name of logs) {
      if (!logNames.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['timeline', index, 'links', 'logs'],
          message: `log "${name}" is not defined in "logs"`,
        });
      }
    }
  });

  const assets = new Set<string>();
  const items = typeof scenario.results === 'string' ? [] : scenario.results.items;
  const itemIds = new Set<string>();
  items.forEach((item, index) => {
    if (itemIds.has(item.id)) {
      ctx.addIssue({
        code: 'custom',
        path: ['results', 'items', index, 'id'],
        message: `duplicate item id "${item.id}"`,
      });
    }
    itemIds.add(item.id);
    const files = new Set<string>();
    for (const [key, asset] of Object.entries(item.assets)) {
      // Assets are served at <itemId>/<file>, so two assets of one item cannot share a file name.
      if (files.has(asset.file)) {
        ctx.addIssue({
          code: 'custom',
          path: ['results', 'items', index, 'assets', key, 'file'],
          message: `duplicate file name "${asset.file}" in item "${item.id}"`,
        });
      }
      files.add(asset.file);
      assets.add(`${item.id}/${key}`);
    }
  });

  scenario.raw.forEach((override, index) => {
    const [kind, name = ''] = splitTarget(override.target);
    const known =
      kind === 'status' ||
      kind === 'results' ||
      (kind === 'log' && logNames.has(name)) ||
      (kind === 'item' && itemIds.has(name)) ||
      (kind === 'asset' && assets.has(name));
    if (!known) {
      ctx.addIssue({
        code: 'custom',
        path: ['raw', index, 'target'],
        message: `"${override.target}" names no log, item or asset of this scenario`,
      });
    }
  });
}

function checkTimeline(scenario: Scenario, ctx: z.RefinementCtx): void {
  let terminal: ScenarioStatus | null = null;
  scenario.timeline.forEach((entry, index) => {
    const previous = scenario.timeline[index - 1];
    if (previous !== undefined && entry.at < previous.at) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeline', index, 'at'],
        message: `must not be earlier than the previous entry (${previous.at})`,
      });
    }
    if (isTerminalStatus(entry.status) && entry.progress !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeline', index, 'progress'],
        message: `must be absent on a "${entry.status}" entry, because finished jobs report no progress`,
      });
    }
    if (terminal !== null && entry.status !== terminal) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeline', index, 'status'],
        message: `must stay "${terminal}" once the job has finished`,
      });
    }
    if (terminal === null && isTerminalStatus(entry.status)) {
      terminal = entry.status;
    }
  });
}

/** Splits `asset:item/key` into `['asset', 'item/key']` and `status` into `['status']`. */
export function splitTarget(target: string): [string, string?] {
  const colon = target.indexOf(':');
  return colon < 0 ? [target] : [target.slice(0, colon), target.slice(colon + 1)];
}
