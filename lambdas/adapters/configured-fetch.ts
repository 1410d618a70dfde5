import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Env, MonitorConfig } from '../core/config';
import { type ClosableGuardedFetch, createGuardedFetch } from './http';
import { tracer } from './powertools';
import { tokenSourceFromConfig } from './token';

/**
 * Builds the guarded fetch every EODH-facing handler uses: the configured allowed hosts,
 * loopback rule and timeout, and the token from the Secrets Manager secret (client traced with
 * X-Ray) or, without a secret name, from `EODH_TOKEN`.
 */
export function createConfiguredFetch(config: MonitorConfig, env: Env = process.env): ClosableGuardedFetch {
  const secretsClient =
    config.tokenSecretName === null ? undefined : tracer.captureAWSv3Client(new SecretsManagerClient({}));
  return createGuardedFetch({
    allowedHosts: config.allowedHosts.map((pattern) => pattern.text),
    allowLoopback: config.allowLoopback,
    getToken: tokenSourceFromConfig(config, env, { client: secretsClient }),
    timeoutMs: config.httpTimeoutMs,
  });
}
