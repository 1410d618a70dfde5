import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { createSnsNotifier } from '../../lambdas/adapters/sns-notifier';
import { composeNotification, type NotificationFacts } from '../../lambdas/core/notification';
import type { OutcomeMessage } from '../../lambdas/core/ports';

const snsMock = mockClient(SNSClient);
const topicArn = 'arn:aws:sns:eu-west-2:123456789012:eodh-job-outcomes';

afterEach(() => {
  snsMock.reset();
});

const message: OutcomeMessage = {
  subject: '[EODH] ndvi-calc succeeded (demo-ws, 3f9c2e1a)',
  text: 'The job succeeded.\n\nJob:        3f9c2e1a-7b44-11f1-9a3e-0242ac120002\n',
  json: {
    version: 1,
    outcome: 'succeeded',
    jobId: '3f9c2e1a-7b44-11f1-9a3e-0242ac120002',
    note: 'line\n"quoted"',
  },
  attributes: { outcome: 'succeeded', workspace: 'demo-ws', processId: 'ndvi-calc' },
};

describe('createSnsNotifier', () => {
  it('publishes one message per protocol', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'b1946ac9-2d5a-5c8f-9d61-3e2f4a1c8b7d' });
    const notifier = createSnsNotifier({ client: new SNSClient({ region: 'eu-west-2' }), topicArn });

    const result = await notifier.publish(message);

    expect(result).toEqual({ messageId: 'b1946ac9-2d5a-5c8f-9d61-3e2f4a1c8b7d' });
    const json = JSON.stringify(message.json);
    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    expect(snsMock).toHaveReceivedCommandWith(PublishCommand, {
      TopicArn: topicArn,
      Subject: message.subject,
      MessageStructure: 'json',
      Message: JSON.stringify({
        default: message.text,
        email: message.text,
        sqs: json,
        lambda: json,
        http: json,
        https: json,
      }),
      MessageAttributes: {
        outcome: { DataType: 'String', StringValue: 'succeeded' },
        workspace: { DataType: 'String', StringValue: 'demo-ws' },
        processId: { DataType: 'String', StringValue: 'ndvi-calc' },
      },
    });
  });

  it('sends a body that decodes back to the text and the JSON copy', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    await createSnsNotifier({ client: new SNSClient({ region: 'eu-west-2' }), topicArn }).publish(message);

    const sent = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    const body = JSON.parse(sent?.Message ?? '{}');
    expect(body.email).toBe(message.text);
    expect(JSON.parse(body.sqs)).toEqual(message.json);
  });

  it('returns null without a message ID', async () => {
    snsMock.on(PublishCommand).resolves({});
    const result = await createSnsNotifier({
      client: new SNSClient({ region: 'eu-west-2' }),
      topicArn,
    }).publish(message);
    expect(result).toEqual({ messageId: null });
  });

  it('rejects when SNS rejects', async () => {
    snsMock.on(PublishCommand).rejects(new Error('Invalid parameter: Subject'));
    const notifier = createSnsNotifier({ client: new SNSClient({ region: 'eu-west-2' }), topicArn });
    await expect(notifier.publish(message)).rejects.toThrow('Invalid parameter: Subject');
  });

  it('keeps a worst-case message under the 256 KiB SNS limit', async () => {
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-2' });
    const long = '"\\🛰\n'.repeat(3_000);
    const facts: NotificationFacts = {
      outcome: 'monitor_error',
      reason: long,
      advice: long,
      jobId: null,
      workspace: null,
      untrustedJobId: long,
      untrustedWorkspace: long,
      processId: long,
      status: long,
      message: long,
      created: long,
      started: long,
      finished: long,
      logLinks: 0,
      archive: {
        uri: long,
        consoleUrl: long,
        filesArchived: 5_000,
        filesSkipped: 10,
        bytesArchived: 2 ** 41,
        filesFailed: 5_000,
        failures: Array.from({ length: 20 }, () => ({ key: long, url: long, reason: long })),
      },
      logTail: { key: long, lines: Array.from({ length: 20 }, () => long.slice(0, 300)) },
      error: { name: long, message: long },
      execution: long,
      stepFunctionsConsoleUrl: long,
      publishedAt: '2026-11-30T09:33:00.000Z',
    };
    await createSnsNotifier({ client: new SNSClient({ region: 'eu-west-2' }), topicArn }).publish(
      composeNotification(facts),
    );

    const sent = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    const attributes = Object.entries(sent?.MessageAttributes ?? {}).map(
      ([name, value]) => name + (value.DataType ?? '') + (value.StringValue ?? ''),
    );
    const total = [sent?.Message ?? '', sent?.Subject ?? '', ...attributes].reduce(
      (sum, part) => sum + Buffer.byteLength(part),
      0,
    );
    expect(total).toBeGreaterThan(100_000);
    expect(total).toBeLessThan(262_144);
  });
});
