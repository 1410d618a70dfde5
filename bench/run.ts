import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runArchiveBenchmark } from './archiving/benchmark';
import { projectRoot, runChild } from './child-process';
import { runColdStartBenchmark } from './cold-start';
import { runCostBenchmark } from './cost/benchmark';
import { describeMachine } from './machine';
import { renderResults } from './report';
import type { BenchResults, PartResult, PartRun } from './results';
import { evaluateTargets } from './targets';

/**
 * `npm run bench`: runs the cost, archive and cold start comparisons and writes
 * bench/results.json and bench/RESULTS.md.
 *
 * Environment:
 * - BENCH_PARTS: comma-separated parts to run (`cost`, `archive`, `cold-start`); default all.
 *   Parts not run keep their results from the previous results.json, and `none` only renders
 *   RESULTS.md again from it (after editing bench/notes.md).
 * - BENCH_COST_RUNS (default 3), BENCH_ARCHIVE_RUNS (default 1), BENCH_INIT_RUNS (default 21).
 * - BENCH_LARGE_FILE_BYTES, BENCH_SMALL_FILE_BYTES, BENCH_SMALL_FILES: the archive job's files.
 */

const resultsFile = join(projectRoot, 'bench', 'results.json');
const reportFile = join(projectRoot, 'bench', 'RESULTS.md');
const notesFile = join(projectRoot, 'bench', 'notes.md');

const partNames = ['cost', 'archive', 'cold-start'] as const;
type PartName = (typeof partNames)[number];

function readCount(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new Error(
      `invalid ${name} "${text}": expected a whole number of at least 1; unset it to use ${fallback}`,
    );
  }
  return value;
}

function selectedParts(): Set<PartName> {
  const text = process.env.BENCH_PARTS;
  if (text === undefined || text.trim() === '') return new Set(partNames);
  if (text.trim() === 'none') return new Set();
  const parts = text.split(',').map((part) => part.trim());
  for (const part of parts) {
    if (!(partNames as readonly string[]).includes(part)) {
      throw new Error(
        `invalid BENCH_PARTS entry "${part}": expected some of ${partNames.join(', ')}, or none`,
      );
    }
  }
  return new Set(parts as PartName[]);
}

const started = Date.now();
function log(line: string): void {
  const seconds = Math.round((Date.now() - started) / 1000);
  process.stderr.write(`[bench ${String(seconds).padStart(4)} s] ${line}\n`);
}

async function runPart<T>(name: PartName, run: () => Promise<T>): Promise<PartResult<T>> {
  const partStarted = Date.now();
  const date = new Date().toISOString();
  const timing = (): PartRun => ({
    date,
    durationSeconds: Math.round((Date.now() - partStarted) / 100) / 10,
  });
  try {
    const result = await run();
    log(`${name}: done`);
    return { ...result, ...timing() };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`${name}: failed: ${message}`);
    return { error: message, ...timing() };
  }
}

const parts = selectedParts();
const previous: Partial<BenchResults> = existsSync(resultsFile)
  ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as Partial<BenchResults>)
  : {};
function commandOf(selected: Set<PartName>): string {
  if (selected.size === partNames.length) return 'npm run bench';
  // Rendering alone changes no figure, so the page keeps naming the run that measured them.
  if (selected.size === 0) return previous.command ?? 'npm run bench';
  return `BENCH_PARTS=${[...selected].join(',')} npm run bench`;
}
const command = commandOf(parts);

const cost = parts.has('cost')
  ? await runPart('cost', () => runCostBenchmark({ runs: readCount('BENCH_COST_RUNS', 3), log }))
  : (previous.cost ?? null);
const archive = parts.has('archive')
  ? await runPart('archive', () => runArchiveBenchmark({ runs: readCount('BENCH_ARCHIVE_RUNS', 1), log }))
  : (previous.archive ?? null);
const coldStart = parts.has('cold-start')
  ? await runPart('cold-start', () => runColdStartBenchmark({ runs: readCount('BENCH_INIT_RUNS', 21), log }))
  : (previous.coldStart ?? null);

const results: BenchResults = {
  command,
  machine: parts.size === 0 && previous.machine !== undefined ? previous.machine : describeMachine(),
  cost,
  archive,
  coldStart,
  targets: evaluateTargets({ cost, archive, coldStart }),
};
writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
const notes = existsSync(notesFile) ? readFileSync(notesFile, 'utf8') : '';
writeFileSync(reportFile, renderResults(results, notes));
// `npm test` runs Biome over Markdown too, so the page is written in its format.
await runChild(join(projectRoot, 'node_modules', '.bin', 'biome'), ['format', '--write', reportFile]);
log(`wrote ${resultsFile} and ${reportFile}`);

const failed = [cost, archive, coldStart].some((part) => part !== null && 'error' in part);
// Exits explicitly: an HTTP agent or timer left behind by a part must not keep the run alive.
process.exit(failed ? 1 : 0);
