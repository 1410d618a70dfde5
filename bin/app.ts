import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readStackConfig, type StackConfig, StackConfigError } from '../lib/config';
import { MonitorStack } from '../lib/monitor-stack';
import { addMonitorNagSuppressions } from '../lib/nag';

/** Reads the configuration, and on an invalid value prints its message without a stack trace and exits 1. */
function readConfigOrExit(app: App): StackConfig {
  try {
    return readStackConfig((key) => app.node.tryGetContext(key));
  } catch (error) {
    if (error instanceof StackConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

const app = new App();
const config = readConfigOrExit(app);

// No env: the stack stays environment-agnostic, so synth needs no account or region lookups.
const stack = new MonitorStack(app, 'EodhJobMonitor', {
  config,
  description:
    'Monitors EODH (OGC API - Processes) jobs, archives their results and logs to S3 and publishes outcomes',
});

addMonitorNagSuppressions(stack);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
