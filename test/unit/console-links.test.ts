import { describe, expect, it } from 'vitest';
import { executionConsoleUrl } from '../../lambdas/core/console-links';

describe('executionConsoleUrl', () => {
  it('links an execution in its region', () => {
    const arn =
      'arn:aws:states:eu-west-2:123456789012:execution:EodhJobMonitor:3f9c2e1a-7b44-11f1-9a3e-0242ac120002--g1';

    expect(executionConsoleUrl(arn)).toBe(
      `https://eu-west-2.console.aws.amazon.com/states/home?region=eu-west-2#/v2/executions/details/${arn}`,
    );
  });

  it.each([
    'arn:aws:states:local:000000000000:execution:EodhJobMonitor:3f9c2e1a',
    'arn:aws-cn:states:cn-north-1:123456789012:execution:EodhJobMonitor:3f9c2e1a',
    'arn:aws:states:eu-west-2:123456789012:stateMachine:EodhJobMonitor',
    'arn:aws:states:eu-west-2:123456789012:execution:EodhJobMonitor:job#1',
    '',
  ])('returns null for %j', (arn) => {
    expect(executionConsoleUrl(arn)).toBeNull();
  });
});
