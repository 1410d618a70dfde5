import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  envTokenSource,
  parseTokenValue,
  secretTokenSource,
  tokenSourceFromConfig,
} from '../../lambdas/adapters/token';
import { ConfigurationError } from '../../lambdas/core/errors';

const secretsMock = mockClient(SecretsManagerClient);
const secretName = 'eodh/monitor/token';

function newClient(): SecretsManagerClient {
  return new SecretsManagerClient({
    region: 'eu-west-2',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
}

afterEach(() => {
  secretsMock.reset();
});

describe('parseTokenValue', () => {
  it('accepts a plain token', () => {
    expect(parseTokenValue('  abc.def-123  ', 'EODH_TOKEN')).toBe('abc.def-123');
  });

  it('accepts JSON with a token field', () => {
    expect(parseTokenValue('{"token": "abc123", "owner": "demo"}', 'secret s')).toBe('abc123');
  });

  it('rejects JSON without a token field', () => {
    expect(() => parseTokenValue('{"value": "abc123"}', 'secret s')).toThrow(
      'secret s does not contain a token: expected a plain token or JSON {"token": "..."}',
    );
  });

  it('rejects malformed JSON without quoting it', () => {
    const attempt = () => parseTokenValue('{"token": "hunter2"', 'secret s');

    expect(attempt).toThrow(ConfigurationError);
    expect(attempt).toThrow('secret s is not valid JSON');
    expect(attempt).not.toThrow('hunter2');
  });

  it('rejects an empty value', () => {
    expect(() => parseTokenValue('   ', 'EODH_TOKEN')).toThrow('EODH_TOKEN does not contain a token');
  });

  it('rejects whitespace inside the token without quoting it', () => {
    const attempt = () => parseTokenValue('abc hunter2', 'EODH_TOKEN');

    expect(attempt).toThrow('EODH_TOKEN contains whitespace or control characters');
    expect(attempt).not.toThrow('hunter2');
  });
});

describe('secretTokenSource', () => {
  it('reads a plain secret string', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: 'plain-token' });
    const getToken = secretTokenSource(secretName, { client: newClient() });

    expect(await getToken()).toBe('plain-token');
    expect(secretsMock).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: secretName });
  });

  it('reads a JSON secret string', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: '{"token":"json-token"}' });
    const getToken = secretTokenSource(secretName, { client: newClient() });

    expect(await getToken()).toBe('json-token');
  });

  it('reads a binary secret', async () => {
    secretsMock
      .on(GetSecretValueCommand)
      .resolves({ SecretBinary: new TextEncoder().encode('binary-token') });
    const getToken = secretTokenSource(secretName, { client: newClient() });

    expect(await getToken()).toBe('binary-token');
  });

  it('caches the value for the maximum age', async () => {
    secretsMock
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: 'first' })
      .resolves({ SecretString: 'second' });
    const getToken = secretTokenSource(secretName, { client: newClient() });

    expect(await getToken()).toBe('first');
    expect(await getToken()).toBe('first');
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  it('reads a rotated secret when the cache is expired', async () => {
    secretsMock
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: 'first' })
      .resolves({ SecretString: 'second' });
    const getToken = secretTokenSource(secretName, { client: newClient(), maxAgeSeconds: 0 });

    expect(await getToken()).toBe('first');
    expect(await getToken()).toBe('second');
    expect(secretsMock).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it('names the secret when reading fails', async () => {
    const notFound = new Error("Secrets Manager can't find the specified secret.");
    notFound.name = 'ResourceNotFoundException';
    secretsMock.on(GetSecretValueCommand).rejects(notFound);
    const getToken = secretTokenSource(secretName, { client: newClient() });

    await expect(getToken()).rejects.toThrow(
      `reading the EODH token from secret ${secretName} failed (ResourceNotFoundException:`,
    );
  });

  it('names the secret and hides the value when it holds no token', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: '{"password":"hunter2"}' });
    const getToken = secretTokenSource(secretName, { client: newClient() });

    const attempt = getToken();

    await expect(attempt).rejects.toThrow(`secret ${secretName} does not contain a token`);
    await expect(attempt).rejects.not.toThrow('hunter2');
  });
});

describe('envTokenSource', () => {
  it('reads EODH_TOKEN', async () => {
    expect(await envTokenSource({ EODH_TOKEN: 'local-token' })()).toBe('local-token');
  });

  it('names the variable when it is missing', async () => {
    await expect(envTokenSource({})()).rejects.toThrow('EODH_TOKEN is not set');
  });
});

describe('tokenSourceFromConfig', () => {
  it('uses the secret when a name is configured', async () => {
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: 'from-secret' });
    const getToken = tokenSourceFromConfig(
      { tokenSecretName: secretName },
      { EODH_TOKEN: 'from-env' },
      {
        client: newClient(),
      },
    );

    expect(await getToken()).toBe('from-secret');
  });

  it('uses EODH_TOKEN when no secret is configured', async () => {
    const getToken = tokenSourceFromConfig({ tokenSecretName: null }, { EODH_TOKEN: 'from-env' });

    expect(await getToken()).toBe('from-env');
    expect(secretsMock).not.toHaveReceivedCommand(GetSecretValueCommand);
  });
});
