import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  type BundlingOptions,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { StackConfig } from './config';

/** Keys of the monitor's Lambda functions, one per handler entry in `lambdas/`. */
export type MonitorFunctionName =
  | 'validateInput'
  | 'checkStatus'
  | 'planArchive'
  | 'archiveArtifacts'
  | 'publishOutcome';

export const monitorFunctionNames: readonly MonitorFunctionName[] = [
  'validateInput',
  'checkStatus',
  'planArchive',
  'archiveArtifacts',
  'publishOutcome',
];

export interface MonitorFunctionsProps {
  readonly config: StackConfig;
  /**
   * Directory holding `package.json`, `package-lock.json` and `lambdas/`.
   * @default - the parent directory of this file's folder
   */
  readonly projectRoot?: string;
  /**
   * Bundling options laid over the ones below, so a benchmark can build variants of the same
   * functions (the AWS SDK left external, an esbuild metafile) without a second set of options.
   * @default - the options below, unchanged
   */
  readonly bundlingOverrides?: Partial<BundlingOptions>;
}

interface FunctionSpec {
  id: string;
  entry: string;
  description: string;
  timeout: Duration;
  memorySize: number;
  environment: Record<string, string>;
}

const defaultProjectRoot = fileURLToPath(new URL('..', import.meta.url));

// Defines `require` for CommonJS dependencies bundled into the ESM output, which esbuild
// otherwise turns into a "Dynamic require is not supported" failure at run time.
const requireBanner =
  "import { createRequire as __monitorCreateRequire } from 'node:module'; " +
  'const require = __monitorCreateRequire(import.meta.url);';

/**
 * esbuild options of every monitor function, as `NodejsFunction` applies them at synth time.
 * The benchmark bundles its own entry points with them too.
 */
export const monitorBundling: BundlingOptions = {
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  mainFields: ['module', 'main'],
  banner: requireBanner,
  target: 'node24',
  minify: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  // The maps serve stack traces, which need line mappings but not the embedded sources.
  sourcesContent: false,
  // The SDK is bundled rather than taken from the runtime, so its version is the one
  // tested here and esbuild can drop the unused parts.
  bundleAwsSDK: true,
  // undici's own bundled build, the one Node.js embeds, defines this. It leaves out the
  // experimental Milo HTTP parser (about 160 KB), which runs only with UNDICI_USE_MILO set.
  define: { esbuildDetection: '1' },
};

// A status request is aborted after 10 s and counts as a transient failure, which the next
// check retries. Two such requests fit in the 30 s function timeout.
const checkHttpTimeoutMs = 10_000;

/** The monitor's Lambda functions: Node.js 24 on ARM64, bundled locally as ESM with esbuild. */
export class MonitorFunctions extends Construct {
  readonly byName: Record<MonitorFunctionName, NodejsFunction>;

  constructor(scope: Construct, id: string, props: MonitorFunctionsProps) {
    super(scope, id);
    const { config } = props;
    const projectRoot = props.projectRoot ?? defaultProjectRoot;
    const allowedHosts = config.allowedHosts.join(',');

    const specs: Record<MonitorFunctionName, FunctionSpec> = {
      validateInput: {
        id: 'ValidateInput',
        entry: 'validate-input.ts',
        description: 'Validates the execution input and applies the configured monitoring options',
        timeout: Duration.seconds(10),
        memorySize: 256,
        environment: {
          API_URL: config.apiUrl,
          ALLOWED_HOSTS: allowedHosts,
          POLL_INITIAL_SECONDS: String(config.pollInitialSeconds),
          POLL_MAX_SECONDS: String(config.pollMaxSeconds),
          MAX_JOB_AGE_HOURS: String(config.maxJobAgeHours),
          LOG_WAIT_SECONDS: String(config.logWaitSeconds),
          TRANSIENT_ERROR_BUDGET: String(config.transientErrorBudget),
          AUTH_ERROR_BUDGET: String(config.authErrorBudget),
          TRANSIENT_ERROR_BUDGET_SECONDS: String(config.transientErrorBudgetSeconds),
          AUTH_ERROR_BUDGET_SECONDS: String(config.authErrorBudgetSeconds),
          CHECKS_PER_EXECUTION: String(config.checksPerExecution),
          STUCK_AFTER_HOURS: String(config.stuckAfterHours),
          DISMISS_ON_TIMEOUT: String(config.dismissOnTimeout),
        },
      },
      checkStatus: {
        id: 'CheckStatus',
        entry: 'check-status.ts',
        description: "Fetches the job's status document and schedules the next check",
        timeout: Duration.seconds(30),
        memorySize: 256,
        environment: {
          ALLOWED_HOSTS: allowedHosts,
          HTTP_TIMEOUT_MS: String(checkHttpTimeoutMs),
        },
      },
      planArchive: {
        id: 'PlanArchive',
        entry: 'plan-archive.ts',
        description: "Reads the job's results and writes the archive plan to S3",
        timeout: Duration.minutes(5),
        memorySize: 512,
        environment: { ALLOWED_HOSTS: allowedHosts },
      },
      archiveArtifacts: {
        id: 'ArchiveArtifacts',
        entry: 'archive-artifacts.ts',
        description: 'Streams one batch of result and log files to S3',
        timeout: Duration.minutes(15),
        memorySize: 1024,
        environment: { ALLOWED_HOSTS: allowedHosts },
      },
      publishOutcome: {
        id: 'PublishOutcome',
        entry: 'publish-outcome.ts',
        description: 'Publishes the job outcome to SNS and writes outcome.json',
        timeout: Duration.minutes(1),
        memorySize: 256,
        environment: {},
      },
    };

    const byName: Partial<Record<MonitorFunctionName, NodejsFunction>> = {};
    for (const name of monitorFunctionNames) {
      byName[name] = this.createFunction(specs[name], projectRoot, props.bundlingOverrides ?? {});
    }
    this.byName = byName as Record<MonitorFunctionName, NodejsFunction>;
  }

  private createFunction(
    spec: FunctionSpec,
    projectRoot: string,
    bundlingOverrides: Partial<BundlingOptions>,
  ): NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${spec.id}Logs`, {
      retention: logs.RetentionDays.THREE_MONTHS,
    });
    // A role of our own instead of AWSLambdaBasicExecutionRole, which may write to any log group.
    const role = new iam.Role(this, `${spec.id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${spec.id} function`,
    });
    logGroup.grantWrite(role);

    return new NodejsFunction(this, spec.id, {
      entry: path.join(projectRoot, 'lambdas', spec.entry),
      handler: 'handler',
      projectRoot,
      depsLockFilePath: path.join(projectRoot, 'package-lock.json'),
      description: spec.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: spec.timeout,
      memorySize: spec.memorySize,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'eodh-job-monitor',
        POWERTOOLS_METRICS_NAMESPACE: 'EodhJobMonitor',
        LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...spec.environment,
      },
      bundling: { ...monitorBundling, ...bundlingOverrides },
    });
  }
}

/**
 * Lets `fn` read the EODH token secret and sets `TOKEN_SECRET_NAME`. The token itself never
 * goes into the environment.
 */
export function grantTokenSecret(
  fn: lambda.Function,
  secret: secretsmanager.ISecret,
  secretName: string,
): void {
  secret.grantRead(fn);
  fn.addEnvironment('TOKEN_SECRET_NAME', secretName);
}
