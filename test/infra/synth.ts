import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readStackConfig } from '../../lib/config';
import { MonitorStack } from '../../lib/monitor-stack';

const projectRoot = new URL('../../', import.meta.url);

/** Reads the context of cdk.json, so tests synthesize with the feature flags `cdk synth` uses. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('cdk.json', projectRoot), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

export interface SynthOptions {
  /** Extra CDK context, as `-c key=value` would set it. */
  context?: Record<string, unknown>;
  /** Runs before synthesis, for example to add validation plugins to the app. */
  prepare?: (app: App, stack: MonitorStack) => void;
  outdir?: string;
  /** Bundles the handlers with esbuild. Off by default, because assertions do not need the code. */
  bundle?: boolean;
}

export interface SynthResult {
  app: App;
  stack: MonitorStack;
  template: Template;
}

/** Builds the monitor stack the way bin/app.ts does and synthesizes it. */
export function synthMonitorStack(options: SynthOptions = {}): SynthResult {
  const app = new App({
    context: {
      ...cdkJsonContext(),
      ...(options.bundle === true ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
    ...(options.outdir !== undefined ? { outdir: options.outdir } : {}),
  });
  const config = readStackConfig((key) => app.node.tryGetContext(key));
  const stack = new MonitorStack(app, 'EodhJobMonitor', { config });
  options.prepare?.(app, stack);
  const template = Template.fromStack(stack);
  return { app, stack, template };
}
