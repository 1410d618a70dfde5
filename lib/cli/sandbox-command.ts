import { listScenarios, type Sandbox, SandboxOptionsError, startSandbox } from '../sandbox';
import { UsageError } from './errors';
import type { CommandIo } from './run-command';

export interface SandboxCommandOptions {
  port?: number;
  token?: string;
}

/** Serves the EODH sandbox until the process is interrupted; prints what a client needs. */
export async function sandboxCommand(options: SandboxCommandOptions, io: CommandIo): Promise<number> {
  if (options.port !== undefined && (options.port < 1 || options.port > 65_535)) {
    throw new UsageError(
      `invalid --port ${options.port}: expected a port from 1 to 65535, or leave it out for any free port`,
    );
  }
  if (options.token !== undefined && !/^[\x21-\x7e]{8,512}$/.test(options.token)) {
    throw new UsageError(
      `invalid --token "${options.token.slice(0, 40)}": expected 8 to 512 printable ASCII characters without spaces`,
    );
  }

  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox({
      apiPort: options.port ?? 0,
      ...(options.token === undefined ? {} : { token: options.token }),
      env: io.env,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new UsageError(`port ${options.port} is already in use: choose another --port or leave it out`, {
        cause: error,
      });
    }
    if (error instanceof SandboxOptionsError) throw new UsageError(error.message, { cause: error });
    throw error;
  }

  const scenarios = await listScenarios();
  io.stdout.write(
    [
      'EODH sandbox listening on loopback (Ctrl-C stops it)',
      `  API base:      ${sandbox.baseUrl}`,
      `  files host:    ${sandbox.filesOrigin}`,
      `  foreign host:  ${sandbox.foreignOrigin} (not allowed; stands in for any other site)`,
      `  workspace:     ${sandbox.workspace}`,
      `  token:         ${sandbox.token}`,
      `  scenarios:     ${scenarios.join(', ')}`,
      '',
      'Submit a job (the process ID picks the scenario):',
      `  curl -s -X POST -H 'Authorization: Bearer ${sandbox.token}' -H 'Content-Type: application/json' \\`,
      `    -H 'Prefer: respond-async' -d '{"inputs": {}}' ${sandbox.baseUrl}/processes/demo/execution`,
      '',
      'Then monitor it with the "jobID" from the answer:',
      `  EODH_TOKEN=${sandbox.token} npx eodh-monitor run <jobID> --workspace ${sandbox.workspace} \\`,
      `    --api-url ${sandbox.apiUrl} --allowed-host ${sandbox.allowedHosts.join(' --allowed-host ')} --allow-loopback`,
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sandbox.close();
  return 0;
}
