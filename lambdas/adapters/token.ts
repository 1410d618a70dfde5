import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Env, MonitorConfig } from '../core/config';
import { ConfigurationError, MonitorError } from '../core/errors';
import type { TokenSource } from '../core/ports';
import { containsSpaceOrControl } from '../core/validation';

/**
 * Sources of the EODH bearer token: a Secrets Manager secret in AWS, `EODH_TOKEN` in local runs.
 * Error messages name the secret or variable and never contain the value.
 */

/**
 * Seconds a secret value is cached. EODH tokens expire (at most 30 days) and are replaced by
 * rotating the secret. With 60 s a warm function uses the new token within a minute, long before
 * the monitor gives up on 403 responses (more than 5 in a row over at least 48 h, with the
 * defaults). A warm function that checks every 15 s reads the secret at most once a minute.
 */
export const secretMaxAgeSeconds = 60;

/**
 * Extracts the token from a secret or variable value: a plain string, or JSON `{"token": "..."}`.
 * @param source - names the secret or variable in error messages
 */
export function parseTokenValue(value: string, source: string): string {
  const text = value.trim();
  const expected = 'expected a plain token or JSON {"token": "..."}';
  let token: unknown = text;
  if (text.startsWith('{')) {
    try {
      token = (JSON.parse(text) as Record<string, unknown>).token;
    } catch {
      // The parser's message quotes the input, which is a secret, so it is not kept as the cause.
      throw new ConfigurationError(`${source} is not valid JSON: ${expected}`);
    }
    if (typeof token === 'string') token = token.trim();
  }
  if (typeof token !== 'string' || token === '') {
    throw new ConfigurationError(`${source} does not contain a token: ${expected}`);
  }
  // A header value cannot carry whitespace or control characters, and a space here usually
  // means two values pasted together.
  if (/\s/.test(token) || containsSpaceOrControl(token)) {
    throw new ConfigurationError(
      `${source} contains whitespace or control characters inside the token: ${expected}`,
    );
  }
  return token;
}

export interface SecretTokenSourceOptions {
  /** Client to use, such as one with a custom region or a mocked one in tests. */
  client?: SecretsManagerClient;
  /** @default 60 */
  maxAgeSeconds?: number;
}

function innermostError(error: unknown): Error | null {
  let current: unknown = error;
  let last: Error | null = null;
  for (let depth = 0; depth < 8 && current instanceof Error; depth += 1) {
    last = current;
    current = current.cause;
  }
  return last;
}

/**
 * Reads the token from a Secrets Manager secret (name or ARN) through Powertools Parameters,
 * cached for `maxAgeSeconds` so a rotated secret is picked up within that time.
 */
export function secretTokenSource(secretName: string, options: SecretTokenSourceOptions = {}): TokenSource {
  const provider =
    options.client === undefined
      ? new SecretsProvider()
      : new SecretsProvider({ awsSdkV3Client: options.client });
  const maxAge = options.maxAgeSeconds ?? secretMaxAgeSeconds;
  const source = `secret ${secretName}`;

  return async () => {
    let value: string | Uint8Array | undefined;
    try {
      value = await provider.get(secretName, { maxAge });
    } catch (error) {
      const cause = innermostError(error);
      throw new MonitorError(
        `reading the EODH token from ${source} failed (${cause?.name ?? 'Error'}: ${cause?.message ?? String(error)})`,
        { cause: error },
      );
    }
    if (value === undefined) {
      throw new ConfigurationError(`${source} has no value: store the EODH token in it`);
    }
    const text = typeof value === 'string' ? value : new TextDecoder().decode(value);
    return parseTokenValue(text, source);
  };
}

/** Reads the token from `EODH_TOKEN`, for local runs without Secrets Manager. */
export function envTokenSource(env: Env = process.env): TokenSource {
  return async () => {
    const value = env.EODH_TOKEN;
    if (value === undefined || value.trim() === '') {
      throw new ConfigurationError(
        'EODH_TOKEN is not set: set it to an EODH API token, or set TOKEN_SECRET_NAME to a Secrets Manager secret holding one',
      );
    }
    return parseTokenValue(value, 'EODH_TOKEN');
  };
}

/** Picks the secret when `TOKEN_SECRET_NAME` is configured, otherwise `EODH_TOKEN`. */
export function tokenSourceFromConfig(
  config: Pick<MonitorConfig, 'tokenSecretName'>,
  env: Env = process.env,
  options: SecretTokenSourceOptions = {},
): TokenSource {
  return config.tokenSecretName === null
    ? envTokenSource(env)
    : secretTokenSource(config.tokenSecretName, options);
}
