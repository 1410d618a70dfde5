import { MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  buildOnFirstCall,
  logger,
  type MetricsRecorder,
  type MonitorLogger,
  metrics,
  wrapHandler,
} from './adapters/powertools';
import { type MonitorConfig, readMonitorConfig } from './core/config';
import { InvalidInputError } from './core/errors';
import type { MonitorState } from './core/state';
import {
  buildStatusUrl,
  describeValue,
  validateCarry,
  validateJobId,
  validateOptions,
  validateStatusUrl,
  validateWorkspace,
} from './core/validation';

/**
 * `Validate input`: checks the execution input and turns it into the job context every later
 * state reads. Invalid input fails here with `InvalidInputError` naming the field, before any
 * request is made, so a typo in a job ID never turns into hours of polling.
 */

/** Task input: the raw execution input and two context values. */
export interface ValidateInputEvent {
  /** The execution input as the caller sent it. */
  input: unknown;
  /** `$$.Execution.Name`. */
  executionName: string;
  /** `$$.Execution.StartTime`, an ISO 8601 time. */
  executionStartTime: string;
}

export interface ValidateInputDeps {
  config: MonitorConfig;
  logger: MonitorLogger;
  /** @default metrics are dropped */
  metrics?: MetricsRecorder;
}

const knownInputKeys = new Set(['jobId', 'workspace', 'statusUrl', 'options', 'carry']);

/** Validates one execution input; a plain function so the CLI can check input before starting. */
export function validateMonitorInput(event: ValidateInputEvent, config: MonitorConfig): MonitorState {
  const startedAt =
    typeof event.executionStartTime === 'string' ? Date.parse(event.executionStartTime) : Number.NaN;
  if (Number.isNaN(startedAt)) {
    throw new InvalidInputError(
      'executionStartTime',
      `invalid executionStartTime ${describeValue(event.executionStartTime)}: expected an ISO 8601 time from $$.Execution.StartTime`,
    );
  }
  const executionStartTime = new Date(startedAt).toISOString();

  const input = event.input;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidInputError(
      'input',
      `invalid execution input ${describeValue(input)}: expected a JSON object such as {"jobId": "...", "workspace": "..."}`,
    );
  }
  const fields = input as Record<string, unknown>;

  const jobId = validateJobId(fields.jobId);
  const workspace = validateWorkspace(fields.workspace);
  const rules = { allowedHosts: config.allowedHosts, allowLoopback: config.allowLoopback };
  const statusUrl =
    fields.statusUrl === undefined
      ? buildStatusUrl(config.apiUrl, workspace, jobId)
      : validateStatusUrl(fields.statusUrl, jobId, rules);
  const options = validateOptions(fields.options, config.defaultOptions);
  const carried = validateCarry(fields.carry, executionStartTime);

  return {
    job: {
      jobId,
      workspace,
      statusUrl,
      options,
      monitorStartedAt: carried.monitorStartedAt,
      generation: carried.generation,
    },
    // A carried check is the previous check of the first Check job status in this execution.
    check: carried.check,
    plan: null,
    archive: null,
  };
}

export function createValidateInputHandler(
  deps: ValidateInputDeps,
): (event: ValidateInputEvent) => Promise<MonitorState> {
  const recorder = deps.metrics ?? { addMetric: () => {} };

  return async (event) => {
    deps.logger.appendKeys({ execution: event.executionName });
    try {
      const state = validateMonitorInput(event, deps.config);
      const input = event.input as Record<string, unknown>;
      const ignored = Object.keys(input).filter((key) => !knownInputKeys.has(key));
      if (ignored.length > 0) {
        deps.logger.warn('ignoring unknown input fields', { fields: ignored.slice(0, 20) });
      }
      recorder.addMetric(
        state.job.generation === 0 ? 'monitorsStarted' : 'monitorsContinued',
        MetricUnit.Count,
        1,
      );
      deps.logger.info('input validated', {
        job_id: state.job.jobId,
        workspace: state.job.workspace,
        generation: state.job.generation,
      });
      return state;
    } catch (error) {
      if (error instanceof InvalidInputError) {
        recorder.addMetric('invalidInputs', MetricUnit.Count, 1);
        deps.logger.warn('invalid input', { field: error.field, error: error.message });
      }
      throw error;
    } finally {
      deps.logger.removeKeys(['execution']);
    }
  };
}

/** Builds the dependencies from configuration and the shared Powertools logger and metrics. */
export function defaultValidateInputDependencies(
  config: MonitorConfig = readMonitorConfig(),
): ValidateInputDeps {
  return { config, logger, metrics };
}

export const handler = wrapHandler(
  buildOnFirstCall(() => createValidateInputHandler(defaultValidateInputDependencies())),
);
