import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { MonitorStack } from './monitor-stack';

/**
 * Renders a resolved CloudFormation value the way cdk-nag names IAM5 findings:
 * `{"Fn::GetAtt": [id, attr]}` as `<id.attr>`, `{"Ref": id}` as `<id>`, joins concatenated.
 */
function renderFindingResource(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }
  if (typeof value === 'object' && value !== null) {
    if ('Fn::Join' in value) {
      const [separator, parts] = value['Fn::Join'] as [string, unknown[]];
      return parts.map(renderFindingResource).join(separator);
    }
    if ('Fn::GetAtt' in value) {
      const [logicalId, attribute] = value['Fn::GetAtt'] as [string, string];
      return `<${logicalId}.${attribute}>`;
    }
    if ('Ref' in value) {
      return `<${String(value.Ref)}>`;
    }
  }
  return JSON.stringify(value);
}

/** Returns the cdk-nag IAM5 finding id for a wildcard resource ARN, which may contain tokens. */
function wildcardResourceFinding(scope: IConstruct, arn: string): string {
  return `AwsSolutions-IAM5[Resource::${renderFindingResource(Stack.of(scope).resolve(arn))}]`;
}

/**
 * Acknowledges the AwsSolutions findings that the monitor accepts by design, each with its
 * reason. Every other finding stays an error at synth time.
 */
export function addMonitorNagSuppressions(stack: MonitorStack): void {
  const archivePrefixFinding = wildcardResourceFinding(
    stack,
    stack.bucket.arnForObjects(`${stack.archive.prefix}/*`),
  );

  for (const fn of Object.values(stack.functions)) {
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 24 is the runtime the handlers are built and tested for (package.json engines and the local runtime use Node 24); moving to a newer runtime is a deliberate upgrade.',
    });
    if (fn.role === undefined) {
      continue;
    }
    Validations.of(fn.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.',
    });
  }
  for (const fn of stack.archive.grantees) {
    if (fn.role !== undefined) {
      Validations.of(fn.role).acknowledge({
        id: archivePrefixFinding,
        reason:
          'Each job archives under its own keys below the archive prefix, so object access is granted on the prefix and nothing outside it.',
      });
    }
  }

  const stateMachineRole = stack.stateMachine.role;
  Validations.of(stateMachineRole).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'X-Ray tracing and CloudWatch Logs delivery for the state machine use actions that support no resource-level permissions.',
  });
  for (const fn of Object.values(stack.functions)) {
    Validations.of(stateMachineRole).acknowledge({
      id: wildcardResourceFinding(stack, `${fn.functionArn}:*`),
      reason:
        'LambdaInvoke grants lambda:InvokeFunction on the function and its qualified ARNs (versions and aliases) of that one function only.',
    });
  }
}
