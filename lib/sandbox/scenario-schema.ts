import { z } from 'zod';
import { expandItem } from './results';

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

/** Seconds after submission, up to 60 days: the long-job scenarios run for 30 days, then wait for logs. */
const secondsAfterSubmission = z.number().min(0).max(5_184_000);

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

/**
 * A name as real file hosts publish it: spaces, `+`, `%`, unicode, `..` runs and very long names
 * are allowed so that scenarios can test how the archive sanitizes them. Only `.` and `..` are
 * rejected, because URL parsers resolve them as dot segments and the sandbox could not serve them.
 */
const looseName = z
  .string()
  .max(1000)
  .refine((name) => name !== '.' && name !== '..', 'must not be "." or ".."');

/** An item ID or asset key: a loose name that is not empty and has no `/`, so raw override targets stay unambiguous. */
const looseKey = looseName
  .refine((name) => name.length > 0, 'must not be empty')
  .refine((name) => !name.includes('/'), 'must not contain "/"');

/** An item ID; `catalog` is the path segment of the STAC documents, so no item can use it. */
const itemId = looseKey.refine((name) => name !== 'catalog', 'must not be "catalog"');

const assetSchema = z
  .strictObject({
    /** File name on the files server; may be empty (the URL then ends in `/`) and may contain `/`. */
    file: looseName,
    type: z.string().min(1),
    roles: z.array(z.string().min(1)).default([]),
    title: z.string().optional(),
    /** Required unless `href` points elsewhere. */
    content: assetContent.optional(),
    /** Written into the item instead of the files-server URL, with `{{...}}` placeholders filled. */
    href: z.string().min(1).optional(),
    /** Serve the file gzip-compressed with `Content-Encoding: gzip`. */
    contentEncoding: z.literal('gzip').optional(),
    /** Serve the file without `Content-Length`, in chunked transfer encoding. */
    chunked: z.literal(true).optional(),
    /** `true` writes the real size into the item; a number is written as given, right or wrong. */
    'file:size': z.union([z.literal(true), byteCount]).optional(),
    /** `true` writes the real SHA-256 multihash into the item; a string is written as given. */
    'file:checksum': z.union([z.literal(true), z.string().min(1)]).optional(),
  })
  .superRefine((asset, ctx) => {
    if (asset.content === undefined && asset.href === undefined) {
      ctx.addIssue({ code: 'custom', path: ['content'], message: 'is required unless "href" is set' });
    }
  });

const itemSchema = z.strictObject({
  id: itemId,
  /** Stands for this many items with IDs `<id>-1` ... `<id>-<count>` (zero-padded) and seeds to match. */
  count: z.number().int().min(1).max(100_000).optional(),
  datetime: z.iso.datetime({ offset: true }).optional(),
  bbox: z.tuple([z.number(), z.number(), z.number(), z.number()]).optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  assets: z.record(looseKey, assetSchema),
});

/** Extra link of the results document, with `{{...}}` placeholders in `href` filled. */
const extraLinkSchema = z.strictObject({
  rel: z.string().min(1),
  href: z.string().min(1),
  type: z.string().optional(),
  title: z.string().optional(),
});

export interface ScenarioCatalogInput {
  id: string;
  title?: string | undefined;
  description?: string | undefined;
  items?: z.input<typeof itemSchema>[] | undefined;
  catalogs?: ScenarioCatalogInput[] | undefined;
  itemLinks?: string[] | undefined;
}

export interface ScenarioCatalog {
  id: string;
  title?: string | undefined;
  description?: string | undefined;
  items: z.output<typeof itemSchema>[];
  catalogs: ScenarioCatalog[];
  itemLinks: string[];
}

/** A child catalog: its own items and child catalogs, and `item` links to items defined elsewhere. */
const catalogSchema: z.ZodType<ScenarioCatalog, ScenarioCatalogInput> = z.lazy(() =>
  z.strictObject({
    id: pathSegment,
    title: z.string().optional(),
    description: z.string().optional(),
    items: z.array(itemSchema).default([]),
    catalogs: z.array(catalogSchema).default([]),
    /** IDs of items defined in another catalog that this one links too, so one item has two parents. */
    itemLinks: z.array(itemId).default([]),
  }),
);

const resultsSchema = z.union(
  [
    z.literal('empty'),
    z.literal('none'),
    z.strictObject({
      title: z.string().optional(),
      description: z.string().optional(),
      items: z.array(itemSchema),
      catalogs: z.array(catalogSchema).default([]),
      links: z.array(extraLinkSchema).default([]),
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
  /** Bytes of the body sent before it stalls: the connection stays open and nothing more arrives. */
  stallAt: byteCount.optional(),
});

/**
 * One bearer token of a job whose token is rotated. The first is the sandbox's own token, stored
 * at submission; each later one is stored in the job's secret at `storedAt`.
 */
const tokenEntry = z.strictObject({
  storedAt: secondsAfterSubmission.default(0),
  /** When the token stops working. The API then returns 403, as EODH does for an expired token. */
  expiresAt: secondsAfterSubmission.optional(),
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
    /** Token rotation: the token in the job's secret over time, and when each one expires. */
    tokens: z.array(tokenEntry).default([]),
  })
  .superRefine(checkScenarioConsistency);

export type Scenario = z.output<typeof scenarioSchema>;
/** A scenario as written, before defaults are applied; `Scenario` values are valid inputs too. */
export type ScenarioInput = z.input<typeof scenarioSchema>;
export type TimelineEntry = Scenario['timeline'][number];
export type TimelineLinks = NonNullable<TimelineEntry['links']>;
export type ScenarioItem = Exclude<Scenario['results'], string>['items'][number];
export type ScenarioAsset = ScenarioItem['assets'][string];
export type AssetContent = NonNullable<ScenarioAsset['content']>;
export type RawOverride = Scenario['raw'][number];
export type RawResponse = NonNullable<RawOverride['response']>;
export type TokenEntry = Scenario['tokens'][number];

/** Cross-field rules that a per-field schema cannot express. */
function checkScenarioConsistency(scenario: Scenario, ctx: z.RefinementCtx): void {
  checkTimeline(scenario, ctx);
  checkTokens(scenario, ctx);
  scenario.raw.forEach((override, index) => {
    const response = override.response;
    if (response?.truncateAt !== undefined && response.stallAt !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['raw', index, 'response', 'stallAt'],
        message: 'must not be set together with "truncateAt"',
      });
    }
  });

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
  const itemIds = new Set<string>();
  const checkItems = (items: readonly ScenarioItem[], path: PropertyKey[]): void => {
    items.forEach((item, index) => {
      for (const expanded of expandItem(item)) {
        if (itemIds.has(expanded.id)) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, index, 'id'],
            message: `duplicate item id "${expanded.id}"`,
          });
          break;
        }
        itemIds.add(expanded.id);
        for (const key of Object.keys(expanded.assets)) {
          assets.add(`${expanded.id}/${key}`);
        }
      }
      const files = new Set<string>();
      for (const [key, asset] of Object.entries(item.assets)) {
        // Assets are served at <itemId>/<file>, so two assets of one item cannot share a file name.
        if (asset.content !== undefined && files.has(asset.file)) {
          ctx.addIssue({
            code: 'custom',
            path: [...path, index, 'assets', key, 'file'],
            message: `duplicate file name "${asset.file}" in item "${item.id}"`,
          });
        }
        files.add(asset.file);
      }
    });
  };

  const itemLinks: { id: string; path: PropertyKey[] }[] = [];
  const checkCatalogs = (catalogs: readonly ScenarioCatalog[], path: PropertyKey[]): void => {
    const ids = new Set<string>();
    catalogs.forEach((catalog, index) => {
      if (ids.has(catalog.id)) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, index, 'id'],
          message: `duplicate catalog id "${catalog.id}" in one parent`,
        });
      }
      ids.add(catalog.id);
      checkItems(catalog.items, [...path, index, 'items']);
      catalog.itemLinks.forEach((id, linkIndex) => {
        itemLinks.push({ id, path: [...path, index, 'itemLinks', linkIndex] });
      });
      checkCatalogs(catalog.catalogs, [...path, index, 'catalogs']);
    });
  };

  if (typeof scenario.results !== 'string') {
    checkItems(scenario.results.items, ['results', 'items']);
    checkCatalogs(scenario.results.catalogs, ['results', 'catalogs']);
  }
  for (const link of itemLinks) {
    if (!itemIds.has(link.id)) {
      ctx.addIssue({ code: 'custom', path: link.path, message: `item "${link.id}" is not defined` });
    }
  }

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

function checkTokens(scenario: Scenario, ctx: z.RefinementCtx): void {
  scenario.tokens.forEach((entry, index) => {
    const previous = scenario.tokens[index - 1];
    if (index === 0 && entry.storedAt !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokens', 0, 'storedAt'],
        message: 'must be 0: the first token is the one the job is submitted with',
      });
    }
    if (previous !== undefined && entry.storedAt < previous.storedAt) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokens', index, 'storedAt'],
        message: `must not be earlier than the previous token's (${previous.storedAt})`,
      });
    }
    if (entry.expiresAt !== undefined && entry.expiresAt <= entry.storedAt) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokens', index, 'expiresAt'],
        message: 'must be later than "storedAt"',
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
