/** Links into the AWS console, for notifications and command output. */

const executionArnPattern =
  /^arn:aws:states:([a-z]{2}(?:-[a-z]+)+-\d{1,2}):\d{12}:execution:[A-Za-z0-9_-]{1,80}:[A-Za-z0-9_-]{1,80}$/;

/**
 * Returns the Step Functions console page of one execution, or null when the text is not a
 * Standard execution ARN in the `aws` partition.
 * NOTE: China and GovCloud partitions use other console hosts, so they get no link.
 */
export function executionConsoleUrl(executionArn: string): string | null {
  const region = executionArnPattern.exec(executionArn)?.[1];
  if (region === undefined) return null;
  return `https://${region}.console.aws.amazon.com/states/home?region=${region}#/v2/executions/details/${executionArn}`;
}
