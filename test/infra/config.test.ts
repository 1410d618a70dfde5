import { describe, expect, it } from 'vitest';
import { monitorOptionsSchema, outcomes } from '../../lambdas/core/state';
import { hostMatches, readStackConfig, StackConfigError } from '../../lib/config';

/** Reads the configuration from a plain object standing in for the CDK context. */
function configFrom(context: Record<string, unknown>) {
  return readStackConfig((key) => context[key]);
}

/** Returns the StackConfigError thrown for `context`, failing the test when none is thrown. */
function errorFor(context: Record<string, unknown>): StackConfigError {
  try {
    configFrom(context);
  } catch (error) {
    if (error instanceof StackConfigError) {
      return error;
    }
    throw error;
  }
  throw new Error(`expected a StackConfigError for ${JSON.stringify(context)}`);
}

describe('readStackConfig defaults', () => {
  it('applies every default when the context is empty', () => {
    expect(configFrom({})).toEqual({
      apiUrl: 'https://eodatahub.org.uk',
      allowedHosts: ['eodatahub.org.uk', '*.eodatahub-workspaces.org.uk'],
      notificationEmails: [],
      notifyOn: [...outcomes],
      tokenSecretName: 'eodh/api-token',
      archiveBucketName: undefined,
      archivePrefix: 'eodh-jobs',
      pollInitialSeconds: 15,
      pollMaxSeconds: 900,
      maxJobAgeHours: 1_080,
      logWaitSeconds: 60,
      transientErrorBudget: 40,
      authErrorBudget: 5,
      transientErrorBudgetSeconds: 21_600,
      authErrorBudgetSeconds: 172_800,
      checksPerExecution: 500,
      stuckAfterHours: 72,
      dismissOnTimeout: false,
      archiveRetentionDays: undefined,
    });
  });

  it('produces options the execution input schema accepts', () => {
    const config = configFrom({});
    const parsed = monitorOptionsSchema.safeParse({
      pollInitialSeconds: config.pollInitialSeconds,
      pollMaxSeconds: config.pollMaxSeconds,
      maxJobAgeHours: config.maxJobAgeHours,
      transientErrorBudget: config.transientErrorBudget,
      authErrorBudget: config.authErrorBudget,
      logWaitSeconds: config.logWaitSeconds,
      transientErrorBudgetSeconds: config.transientErrorBudgetSeconds,
      authErrorBudgetSeconds: config.authErrorBudgetSeconds,
      checksPerExecution: config.checksPerExecution,
      stuckAfterHours: config.stuckAfterHours,
      dismissOnTimeout: config.dismissOnTimeout,
    });
    expect(parsed.success).toBe(true);
  });

  it('derives the default allowed hosts from apiUrl', () => {
    const config = configFrom({ apiUrl: 'https://staging.eodatahub.org.uk/' });
    expect(config.apiUrl).toBe('https://staging.eodatahub.org.uk');
    expect(config.allowedHosts).toEqual(['staging.eodatahub.org.uk', '*.eodatahub-workspaces.org.uk']);
  });
});

describe('readStackConfig strings from -c', () => {
  it('parses numbers from strings', () => {
    const config = configFrom({
      pollInitialSeconds: '5',
      pollMaxSeconds: ' 600 ',
      maxJobAgeHours: '0.5',
      logWaitSeconds: '0',
      transientErrorBudget: '10',
      authErrorBudget: '2',
      checksPerExecution: '2000',
      transientErrorBudgetSeconds: '0',
      authErrorBudgetSeconds: '86400',
      stuckAfterHours: '12.5',
      dismissOnTimeout: 'TRUE',
      archiveRetentionDays: '365',
    });
    expect(config.pollInitialSeconds).toBe(5);
    expect(config.pollMaxSeconds).toBe(600);
    expect(config.maxJobAgeHours).toBe(0.5);
    expect(config.logWaitSeconds).toBe(0);
    expect(config.transientErrorBudget).toBe(10);
    expect(config.authErrorBudget).toBe(2);
    expect(config.checksPerExecution).toBe(2000);
    expect(config.transientErrorBudgetSeconds).toBe(0);
    expect(config.authErrorBudgetSeconds).toBe(86_400);
    expect(config.stuckAfterHours).toBe(12.5);
    expect(config.dismissOnTimeout).toBe(true);
    expect(config.archiveRetentionDays).toBe(365);
  });

  it('parses comma-separated lists', () => {
    const config = configFrom({
      notificationEmails: 'ops@example.org, science@example.org',
      notifyOn: 'failed,monitor_error',
      allowedHosts: 'eodatahub.org.uk, *.example.org',
    });
    expect(config.notificationEmails).toEqual(['ops@example.org', 'science@example.org']);
    expect(config.notifyOn).toEqual(['failed', 'monitor_error']);
    expect(config.allowedHosts).toEqual(['eodatahub.org.uk', '*.example.org']);
  });

  it('parses JSON array strings', () => {
    const config = configFrom({ notifyOn: '["succeeded","failed"]' });
    expect(config.notifyOn).toEqual(['succeeded', 'failed']);
  });

  it('takes lists from cdk.json as arrays', () => {
    const config = configFrom({ notificationEmails: ['ops@example.org'], notifyOn: ['timed_out'] });
    expect(config.notificationEmails).toEqual(['ops@example.org']);
    expect(config.notifyOn).toEqual(['timed_out']);
  });

  it('reads an empty e-mail string as no addresses', () => {
    expect(configFrom({ notificationEmails: '' }).notificationEmails).toEqual([]);
  });

  it('removes duplicate list entries', () => {
    const config = configFrom({
      notifyOn: 'failed,failed',
      notificationEmails: 'a@example.org,a@example.org',
    });
    expect(config.notifyOn).toEqual(['failed']);
    expect(config.notificationEmails).toEqual(['a@example.org']);
  });

  it('lowercases allowed hosts', () => {
    expect(configFrom({ allowedHosts: 'EODataHub.org.uk' }).allowedHosts).toEqual(['eodatahub.org.uk']);
  });
});

describe('readStackConfig accepted values', () => {
  it.each([
    ['archivePrefix', 'team-a/eodh.jobs', 'team-a/eodh.jobs'],
    ['archiveBucketName', 'my-team.eodh-archive', 'my-team.eodh-archive'],
    ['tokenSecretName', 'prod/eodh/token+ws=demo@1', 'prod/eodh/token+ws=demo@1'],
    ['pollMaxSeconds', 86_400, 86_400],
    ['maxJobAgeHours', 8_760, 8_760],
    ['logWaitSeconds', 3_600, 3_600],
    ['checksPerExecution', 1, 1],
    ['dismissOnTimeout', true, true],
    ['dismissOnTimeout', 'false', false],
  ])('accepts %s = %j', (key, value, expected) => {
    expect(configFrom({ [key]: value })[key as keyof ReturnType<typeof configFrom>]).toEqual(expected);
  });
});

describe('readStackConfig invalid values', () => {
  const cases: [string, unknown, RegExp][] = [
    ['apiUrl', 'http://eodatahub.org.uk', /https URL/],
    ['apiUrl', 'not a url', /https URL/],
    ['apiUrl', 'https://user:secret@eodatahub.org.uk', /without credentials/],
    ['apiUrl', 'https://eodatahub.org.uk/?debug=1', /query/],
    ['apiUrl', 'https://10.0.0.1', /https URL/],
    ['allowedHosts', 'eodatahub.org.uk,bad host', /Entry "bad host" is not valid/],
    ['allowedHosts', '*.org', /host names/],
    ['allowedHosts', 'eodatahub.org.uk,192.168.1.10', /Entry "192.168.1.10" is not valid/],
    ['allowedHosts', '', /non-empty list/],
    ['notificationEmails', 'ops@example.org,not-an-address', /Entry "not-an-address" is not valid/],
    ['notificationEmails', 42, /e-mail addresses/],
    ['notifyOn', 'failed,exploded', /Entry "exploded" is not valid/],
    ['notifyOn', '', /non-empty list/],
    ['notifyOn', '["failed"', /outcomes from: succeeded, failed, dismissed, timed_out, monitor_error/],
    ['tokenSecretName', 'eodh token', /Secrets Manager secret name/],
    ['tokenSecretName', '', /Secrets Manager secret name/],
    ['archiveBucketName', 'My_Bucket', /S3 bucket name/],
    ['archiveBucketName', 'ab', /S3 bucket name/],
    ['archiveBucketName', 'a..b-bucket', /S3 bucket name/],
    ['archiveBucketName', '192.168.10.20', /S3 bucket name/],
    ['archiveBucketName', 'xn--archive', /S3 bucket name/],
    ['archiveBucketName', 'archive-s3alias', /S3 bucket name/],
    ['archivePrefix', '/eodh-jobs', /without leading/],
    ['archivePrefix', 'eodh-jobs/', /trailing/],
    ['archivePrefix', 'eodh//jobs', /double slashes/],
    ['archivePrefix', 'eodh/../jobs', /\.\. segments/],
    ['archivePrefix', 'eodh jobs', /key prefix/],
    ['archivePrefix', 'x'.repeat(201), /at most 200 characters/],
    ['pollInitialSeconds', '0', /from 1 to 86400/],
    ['pollInitialSeconds', '1.5', /whole number/],
    ['pollInitialSeconds', 'fast', /whole number/],
    ['pollMaxSeconds', 86_401, /from 1 to 86400/],
    ['maxJobAgeHours', '0', /greater than 0/],
    ['maxJobAgeHours', 8_761, /at most 8760/],
    ['logWaitSeconds', -1, /from 0 to 3600/],
    ['logWaitSeconds', '3601', /from 0 to 3600/],
    ['transientErrorBudget', 0, /from 1 to 10000/],
    ['authErrorBudget', '10001', /from 1 to 10000/],
    ['checksPerExecution', 2_001, /from 1 to 2000/],
    ['checksPerExecution', true, /whole number/],
    ['transientErrorBudgetSeconds', -1, /from 0 to 2592000/],
    ['authErrorBudgetSeconds', '2592001', /from 0 to 2592000/],
    ['stuckAfterHours', '0', /greater than 0/],
    ['dismissOnTimeout', 'yes', /true or false/],
    ['archiveRetentionDays', '0', /from 1 to 36500/],
    ['archiveRetentionDays', 'forever', /whole number of days/],
  ];

  it.each(cases)('rejects %s = %j', (key, value, expected) => {
    const error = errorFor({ [key]: value });
    expect(error.name).toBe('StackConfigError');
    expect(error.key).toBe(key);
    expect(error.message).toContain(`Invalid CDK context value for ${key}: ${JSON.stringify(value)}.`);
    expect(error.message).toMatch(expected);
    expect(error.message).toContain(`-c ${key}=<value>`);
  });

  it('rejects allowedHosts without the apiUrl host', () => {
    const error = errorFor({ allowedHosts: '*.eodatahub-workspaces.org.uk' });
    expect(error.key).toBe('allowedHosts');
    expect(error.message).toContain('does not include the apiUrl host eodatahub.org.uk');
  });

  it('rejects pollInitialSeconds above pollMaxSeconds', () => {
    const error = errorFor({ pollInitialSeconds: '600', pollMaxSeconds: '300' });
    expect(error.key).toBe('pollInitialSeconds');
    expect(error.message).toContain('Expected at most pollMaxSeconds (300)');
  });
});

describe('hostMatches', () => {
  it.each([
    ['eodatahub.org.uk', true],
    ['EODATAHUB.org.uk', true],
    ['demo.eodatahub-workspaces.org.uk', true],
    ['a.b.eodatahub-workspaces.org.uk', true],
    ['eodatahub-workspaces.org.uk', false],
    ['evil-eodatahub-workspaces.org.uk', false],
    ['eodatahub.org.uk.example.org', false],
  ])('matches %s: %s', (host, expected) => {
    expect(hostMatches(host, ['eodatahub.org.uk', '*.eodatahub-workspaces.org.uk'])).toBe(expected);
  });
});
