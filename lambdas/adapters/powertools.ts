import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy, { type MiddyfiedHandler } from '@middy/core';

/**
 * The Logger, Metrics and Tracer every handler shares, and the middy wrapper that attaches
 * them. One instance of each per process, as Powertools expects: they keep cold-start state.
 * Log level, service name and metrics namespace follow the standard POWERTOOLS_* variables.
 */

export const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'eodh-job-monitor';

export const logger = new Logger({ serviceName });

export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'EodhJobMonitor',
});

export const tracer = new Tracer({ serviceName });

/** The logger methods handlers use, so tests and the local runtime can pass their own. */
export type MonitorLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error' | 'appendKeys' | 'removeKeys'>;

/** The metrics method handlers use. */
export interface MetricsRecorder {
  addMetric(name: string, unit: Parameters<Metrics['addMetric']>[1], value: number): void;
}

/** Logger that drops everything, for callers that do not want logs. */
export const silentLogger: MonitorLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  appendKeys: () => {},
  removeKeys: () => {},
};

/** Metrics recorder that drops everything, for local runs outside Lambda. */
export const discardMetrics: MetricsRecorder = { addMetric: () => {} };

export type PlainHandler<TEvent, TResult> = (event: TEvent) => Promise<TResult>;

/**
 * Builds the handler on its first invocation and reuses it afterwards, so importing a handler
 * module never reads the environment or creates clients (tests and the bundle smoke test
 * import modules with no environment). A failed build is not cached: the next invocation
 * tries again and throws the same `ConfigurationError` if the environment is still wrong.
 */
export function buildOnFirstCall<TEvent, TResult>(
  build: () => PlainHandler<TEvent, TResult>,
): PlainHandler<TEvent, TResult> {
  let built: PlainHandler<TEvent, TResult> | undefined;
  return (event) => {
    built ??= build();
    return built(event);
  };
}

export interface WrapHandlerOptions {
  /**
   * Records the handler's return value in the trace.
   * @default false, because outputs carry job data and traces are kept outside the archive
   */
  captureResponse?: boolean;
  /**
   * Emits a `ColdStart` metric on the first invocation of each execution environment.
   * @default true
   */
  captureColdStartMetric?: boolean;
}

/**
 * Wraps a plain handler in middy with the Powertools middleware. It adds the Lambda context to
 * every log line and resets appended keys after each invocation, records an X-Ray segment for
 * the handler, and flushes metrics as EMF when the invocation ends, including when it throws.
 */
export function wrapHandler<TEvent, TResult>(
  handler: PlainHandler<TEvent, TResult>,
  options: WrapHandlerOptions = {},
): MiddyfiedHandler<TEvent, TResult> {
  return middy<TEvent, TResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer, { captureResponse: options.captureResponse ?? false }))
    .use(logMetrics(metrics, { captureColdStartMetric: options.captureColdStartMetric ?? true }))
    .handler((event: TEvent) => handler(event));
}
