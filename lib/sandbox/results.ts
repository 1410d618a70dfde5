import type { Scenario, ScenarioAsset, ScenarioCatalog, ScenarioItem } from './scenario-schema';

/**
 * The results of a scenario as the files server publishes them: items with a `count` expanded
 * into that many items, and every item placed in the catalog tree under the job's collection.
 */

/** A catalog of the results tree; the root stands for the job's collection and has an empty path. */
export interface ResultCatalog {
  id: string;
  /** Catalog IDs from the collection down to this catalog; empty for the collection. */
  path: string[];
  title?: string | undefined;
  description?: string | undefined;
  items: ScenarioItem[];
  catalogs: ResultCatalog[];
  /** IDs of items defined in other catalogs that this catalog links to as well. */
  itemLinks: string[];
}

/** An expanded item with the path of the catalog that defines it. */
export interface ResultItem {
  item: ScenarioItem;
  catalogPath: string[];
}

export interface ResultIndex {
  root: ResultCatalog;
  items: ResultItem[];
  byId: ReadonlyMap<string, ResultItem>;
}

/**
 * Expands an item with a `count` into items `<id>-1` ... `<id>-<count>`, numbers zero-padded to
 * the width of the count so they sort in order. Generated content gets the same suffix on its
 * seed, so every copy has its own bytes. An item without a count is returned as it is.
 */
export function expandItem(item: ScenarioItem): ScenarioItem[] {
  if (item.count === undefined) {
    return [item];
  }
  const { count, ...template } = item;
  const width = String(count).length;
  return Array.from({ length: count }, (_, index) => {
    const suffix = String(index + 1).padStart(width, '0');
    const assets: Record<string, ScenarioAsset> = {};
    for (const [key, asset] of Object.entries(template.assets)) {
      const content = asset.content;
      assets[key] =
        content !== undefined && 'seed' in content
          ? { ...asset, content: { ...content, seed: `${content.seed}-${suffix}` } }
          : asset;
    }
    return { ...template, id: `${template.id}-${suffix}`, assets };
  });
}

function buildCatalog(
  source: Pick<ScenarioCatalog, 'items' | 'catalogs' | 'itemLinks'> & Partial<ScenarioCatalog>,
  path: string[],
  items: ResultItem[],
): ResultCatalog {
  const expanded = source.items.flatMap(expandItem);
  for (const item of expanded) {
    items.push({ item, catalogPath: path });
  }
  return {
    id: source.id ?? '',
    path,
    title: source.title,
    description: source.description,
    items: expanded,
    catalogs: source.catalogs.map((child) => buildCatalog(child, [...path, child.id], items)),
    itemLinks: source.itemLinks,
  };
}

const indexes = new WeakMap<Scenario, ResultIndex | null>();

/**
 * Returns the scenario's results tree and its items in definition order (collection items
 * first, then each child catalog depth first), or null when the results are `empty` or `none`.
 * The index is built once per scenario object.
 */
export function resultIndex(scenario: Scenario): ResultIndex | null {
  const cached = indexes.get(scenario);
  if (cached !== undefined) {
    return cached;
  }
  let index: ResultIndex | null = null;
  if (typeof scenario.results !== 'string') {
    const items: ResultItem[] = [];
    const root = buildCatalog({ ...scenario.results, itemLinks: [] }, [], items);
    index = { root, items, byId: new Map(items.map((entry) => [entry.item.id, entry])) };
  }
  indexes.set(scenario, index);
  return index;
}

/** Finds the child catalog at `path` below the collection, or undefined. */
export function catalogAt(root: ResultCatalog, path: readonly string[]): ResultCatalog | undefined {
  let current: ResultCatalog | undefined = root;
  for (const id of path) {
    current = current?.catalogs.find((child) => child.id === id);
  }
  return current;
}
