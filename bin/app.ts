import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readStackConfig } from '../lib/config';
import { MonitorStack } from '../lib/monitor-stack';
import { addMonitorNagSuppressions } from '../lib/nag';

const app = new App();
const config = readStackConfig((key) => app.node.tryGetContext(key));

// No env: the stack stays environment-agnostic, so synth needs no account or region lookups.
const stack = new MonitorStack(app, 'EodhJobMonitor', {
  config,
  description:
    'Monitors EODH (OGC API - Processes) jobs, archives their results and logs to S3 and publishes outcomes',
});

addMonitorNagSuppressions(stack);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
