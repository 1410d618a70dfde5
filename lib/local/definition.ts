import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { readStackConfig, type StackConfig } from '../config';
import { type AslDefinition, definitionFromTemplate } from '../definition';
import type { MonitorFunctionName } from '../monitor-functions';
import { MonitorStack } from '../monitor-stack';

/** The state machine definition of the synthesized stack, with the function each Task state invokes. */
export interface LocalDefinition {
  definition: AslDefinition;
  /** Function name (such as `checkStatus`) for each Task state name, Map item states included. */
  taskFunctions: Record<string, MonitorFunctionName>;
}

const stackId = 'EodhJobMonitor';
const projectRoot = join(import.meta.dirname, '..', '..');

/** Feature flags from cdk.json, so the in-process synth matches `cdk synth`. */
function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(projectRoot, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/**
 * Synthesizes the monitor stack in this process and takes its state machine definition out of
 * the template, so the local runtime executes exactly what `cdk deploy` would deploy. Asset
 * bundling is skipped (`aws:cdk:bundling-stacks` empty): the handlers run in-process instead.
 */
export function synthesizeDefinition(
  config: StackConfig = readStackConfig(() => undefined),
): LocalDefinition {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new MonitorStack(app, stackId, { config });
  const template = app.synth().getStackByName(stack.stackName).template as object;
  const { definition, functionLogicalIds } = definitionFromTemplate(template);

  const functionByLogicalId = new Map<string, MonitorFunctionName>();
  for (const [name, fn] of Object.entries(stack.functions) as [
    MonitorFunctionName,
    (typeof stack.functions)[MonitorFunctionName],
  ][]) {
    const resource = fn.node.defaultChild;
    if (resource === undefined) continue;
    functionByLogicalId.set(
      stack.resolve((resource as unknown as { logicalId: string }).logicalId) as string,
      name,
    );
  }

  const taskFunctions: Record<string, MonitorFunctionName> = {};
  for (const [stateName, logicalId] of Object.entries(functionLogicalIds)) {
    const functionName = functionByLogicalId.get(logicalId);
    if (functionName === undefined) {
      throw new Error(
        `state "${stateName}" invokes ${logicalId}, which is not one of the monitor's functions`,
      );
    }
    taskFunctions[stateName] = functionName;
  }
  return { definition, taskFunctions };
}
