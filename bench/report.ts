import { defaultChecksPerExecution } from '../lambdas/core/config';
import { baselineLoopShape } from './cost/baseline';
import { eventsPerExecution, historyEvents } from './cost/history';
import { type BenchResults, completed, type PartResult, type TargetCheck } from './results';
import { mebibyte, round } from './stats';

/** Renders bench/RESULTS.md from the results: the machine, the targets, then one section per part. */

function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) =>
    `| ${cells.map((cell) => String(cell).replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Formats a duration in seconds as the largest two units, such as `23 h 8 min` or `5 min`. */
export function formatDuration(seconds: number): string {
  const units: [string, number][] = [
    ['d', 86_400],
    ['h', 3_600],
    ['min', 60],
    ['s', 1],
  ];
  let remaining = Math.round(seconds);
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const count = Math.floor(remaining / size);
    if (count > 0 && parts.length < 2) {
      parts.push(`${count} ${unit}`);
      remaining -= count * size;
    } else if (parts.length > 0) {
      break;
    }
  }
  return parts.length === 0 ? '0 s' : parts.join(' ');
}

function formatUsd(value: number): string {
  return `$${value < 0.01 ? value.toFixed(4) : value.toFixed(2)}`;
}

function verdict(check: TargetCheck): string {
  if (check.met === null) return 'not measured';
  return check.met ? 'met' : 'missed';
}

function partHeading(part: PartResult<unknown>): string {
  if (part === null) return 'Not run.';
  const when = `Run ${part.date}, ${round(part.durationSeconds, 0)} s.`;
  return 'error' in part ? `${when} Failed: ${part.error}` : when;
}

function costSection(results: BenchResults): string {
  const cost = completed(results.cost);
  const lines = ['## 1. Cost per job', '', partHeading(results.cost)];
  if (cost === null) return lines.join('\n');
  const loopEvents =
    historyEvents({ states: baselineLoopShape.loop, mapIterations: 0, retriedAttempts: 0 }) -
    eventsPerExecution;
  lines.push(
    '',
    `Each job ran ${cost.runs} times through the synthesized state machine (ours) and through a fixed ${cost.baselineWaitSeconds} s ` +
      'wait-check-choice poller with no continuation (the baseline, shaped like the AWS job poller sample), ' +
      'on the same local engine (aws-local-stepfunctions) against the same sandbox job, in virtual time. ' +
      `Monitoring started ${cost.startDelaysSeconds.join(', ')} s after submission in the ${cost.runs} runs, for both. ` +
      'Figures are medians over the runs. ' +
      `Cost is state transitions at $${cost.usdPerThousandTransitions} per 1,000 (Standard workflows; Lambda not included).`,
    '',
    table(
      [
        'job',
        'ours: transitions',
        'Lambda calls',
        'executions',
        'detection delay',
        'max history / execution',
        'cost',
        'baseline: transitions',
        'history events',
        'fits in 25,000?',
        'cost',
        'ratio baseline / ours',
      ],
      cost.rows.map((row) => [
        `${row.label} (\`${row.scenario}\`)`,
        row.ours.stateTransitions,
        row.ours.lambdaInvocations,
        row.ours.executions,
        row.ours.detectionDelaySeconds === null
          ? 'never seen'
          : `${row.ours.detectionDelaySeconds} s (${row.ours.detectionDelayPercent} %)`,
        row.ours.maxHistoryEvents,
        formatUsd(row.ours.costUsd),
        row.baseline.stateTransitions,
        row.baseline.historyEvents,
        row.baseline.exceedsHistoryLimit
          ? `no: fails at ${formatDuration(row.baseline.failedAtJobAgeSeconds ?? 0)}`
          : `yes (delay ${row.baseline.detectionDelaySeconds} s)`,
        formatUsd(row.baseline.costUsd),
        row.transitionRatio === null ? 'n/a' : `${row.transitionRatio}x`,
      ]),
    ),
    '',
    `The baseline can follow a job of at most ${formatDuration(cost.baselineLongestJob.seconds)} ` +
      `(${cost.baselineLongestJob.seconds} s, ${cost.baselineLongestJob.checks} checks) in one execution: ` +
      `after that its history passes ${cost.historyEventLimit.toLocaleString('en-US')} events and Step Functions fails it. ` +
      'Beyond that point its transitions and history events are computed for the whole job from its loop ' +
      `(${baselineLoopShape.loop.length} transitions and ${loopEvents} events per ${cost.baselineWaitSeconds} s); ` +
      'the engine run stops where AWS would stop it, and runs that complete must match the computation exactly. ' +
      `Ours continues in a new execution every ${defaultChecksPerExecution} checks (the default \`checksPerExecution\`).`,
    '',
    'History events are counted with one model for both machines (`bench/cost/history.ts`): Task 5 events, ' +
      'Wait, Choice, Pass and Succeed 2, Fail 1, Map 4 plus 2 per iteration plus the states inside, ' +
      '3 per retried attempt, and 2 per execution.',
  );
  if (cost.pollMaxVariants.length > 0) {
    lines.push(
      '',
      'The 24 h job with a larger `pollMaxSeconds` per job option (all else the same):',
      '',
      table(
        ['pollMaxSeconds', 'ours: transitions', 'ratio to baseline', 'detection delay'],
        cost.pollMaxVariants.map((variant) => [
          variant.pollMaxSeconds,
          variant.stateTransitions,
          variant.transitionRatio === null ? 'n/a' : `${variant.transitionRatio}x`,
          variant.detectionDelaySeconds === null ? 'never seen' : `${variant.detectionDelaySeconds} s`,
        ]),
      ),
    );
  }
  return lines.join('\n');
}

function archiveSection(results: BenchResults): string {
  const archive = completed(results.archive);
  const lines = ['## 2. Archive throughput and memory', '', partHeading(results.archive)];
  if (archive === null) return lines.join('\n');
  const runsPerSide = archive.runs.filter((run) => run.side === 'ours').length;
  const sides = [
    ['archive step (plan + batches) to s3rver', archive.sides.ours],
    ['plain download to disk (baseline)', archive.sides.plainDownload],
    ['plain copy to s3rver (reference)', archive.sides.plainUpload],
  ] as const;
  lines.push(
    '',
    `${round(archive.bytes / mebibyte / 1024, 3)} GiB (${archive.bytes} bytes) in ${archive.files} files: one of ` +
      `${archive.largeFileBytes} bytes and ${archive.smallFiles} of ${archive.smallFileBytes} bytes, generated by the sandbox, ` +
      'all on loopback. The sandbox, s3rver and each measured process run in processes of their own; the measured ' +
      "processes are bundled with the handlers' esbuild options and run with plain Node. " +
      `The archive step runs its batches ${archive.mapConcurrency} at a time, as the Map state does, in one process; ` +
      `the plain copies move ${archive.referenceConcurrency} files at a time, the most the archive step moves at once. ` +
      `${runsPerSide} ${runsPerSide === 1 ? 'run' : 'runs'} of each side; throughput is the median, peaks are the largest. ` +
      `Peak RSS from ${archive.rssSource}.`,
    '',
    table(
      [
        'side',
        'MiB/s',
        'ratio to download',
        'CPU s/GiB (process)',
        'CPU s/GiB (s3rver)',
        'peak RSS MiB',
        'peak ArrayBuffers MiB',
      ],
      sides.map(([name, side]) => [
        name,
        side.mebibytesPerSecond,
        round(side.mebibytesPerSecond / archive.sides.plainDownload.mebibytesPerSecond, 2),
        side.cpuSecondsPerGiB.process,
        side.cpuSecondsPerGiB.s3Server ?? '-',
        side.peakRssMiB,
        side.peakArrayBuffersMiB,
      ]),
    ),
  );
  return lines.join('\n');
}

function coldStartSection(results: BenchResults): string {
  const coldStart = completed(results.coldStart);
  const lines = ['## 3. Cold start', '', partHeading(results.coldStart)];
  if (coldStart === null) return lines.join('\n');
  lines.push(
    '',
    "Each handler bundled by CDK with the functions' own esbuild options (`monitorBundling` in `lib/monitor-functions.ts`), " +
      "as deployed, and again with `bundleAwsSDK: false` (the SDK left to the Lambda runtime; here the project's node_modules stands in for it). " +
      `Init is the median over ${coldStart.runs} fresh Node processes of the time to \`import()\` the bundle, measured inside the process, ` +
      "with the function's environment (including `NODE_OPTIONS=--enable-source-maps`).",
    '',
    table(
      [
        'handler',
        'bundle',
        'SDK external',
        'size ratio',
        'init ms',
        'init ms, SDK external',
        'init ratio',
        'under 1 MiB',
        'largest packages',
      ],
      coldStart.handlers.map((handler) => [
        handler.name,
        handler.bundleBytes,
        handler.bundleBytesSdkExternal,
        `${handler.sizeRatio}x`,
        handler.initMs,
        handler.initMsSdkExternal,
        `${handler.initRatio}x`,
        handler.underTarget ? 'yes' : 'no',
        handler.largestPackages
          .slice(0, 4)
          .map((share) => `${share.name} ${Math.round(share.bytes / 1024)} KiB`)
          .join(', '),
      ]),
    ),
  );
  return lines.join('\n');
}

/** Renders the whole RESULTS.md page. `notes` is prose appended after the generated sections. */
export function renderResults(results: BenchResults, notes: string): string {
  const { machine } = results;
  return [
    '# Benchmark results',
    '',
    `Generated by \`${results.command}\` (\`bench/run.ts\`); edit \`bench/notes.md\` for the prose at the end, not this page.`,
    'Absolute times on a shared machine are noise, so each comparison runs side by side in one run and is reported as a ratio or a count.',
    '',
    table(
      ['machine', ''],
      [
        ['processors (`nproc`)', machine.nproc],
        ['CPU', machine.cpuModel],
        ['memory', `${machine.memoryGiB} GiB`],
        ['Node.js', machine.node],
        ['platform', machine.platform],
        ['date', machine.date],
        ['command', `\`${results.command}\``],
      ],
    ),
    '',
    '## Targets',
    '',
    table(
      ['target', 'measured', 'result', 'shortfall and cause'],
      results.targets.map((check) => [check.target, check.measured, verdict(check), check.note || '-']),
    ),
    '',
    costSection(results),
    '',
    archiveSection(results),
    '',
    coldStartSection(results),
    '',
    notes.trim(),
    '',
  ].join('\n');
}
