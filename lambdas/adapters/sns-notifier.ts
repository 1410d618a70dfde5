import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notifier, OutcomeMessage } from '../core/ports';

export interface SnsNotifierOptions {
  client: SNSClient;
  topicArn: string;
}

/**
 * Publishes outcome messages to an SNS topic as one message per outcome. With
 * `MessageStructure: 'json'` each protocol gets its own body: e-mail subscribers (and any
 * protocol without an entry, through `default`) get the plain-text body, while SQS, Lambda and
 * HTTP(S) subscribers get the JSON copy as a string. The message attributes carry `outcome`,
 * `workspace` and `processId` for subscription filter policies.
 */
export function createSnsNotifier(options: SnsNotifierOptions): Notifier {
  const { client, topicArn } = options;
  return {
    async publish(message: OutcomeMessage) {
      const json = JSON.stringify(message.json);
      const result = await client.send(
        new PublishCommand({
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
            outcome: { DataType: 'String', StringValue: message.attributes.outcome },
            workspace: { DataType: 'String', StringValue: message.attributes.workspace },
            processId: { DataType: 'String', StringValue: message.attributes.processId },
          },
        }),
      );
      return { messageId: result.MessageId ?? null };
    },
  };
}
