import { listScenarios, startSandbox } from '../sandbox';
import type { CommandIo } from './run-command';

export interface SandboxCommandOptions {
  port?: number;
  token?: string;
}

/** Serves the EODH sandbox until the process is interrupted; prints what a client needs. */
export async function sandboxCommand(options: SandboxCommandOptions, io: CommandIo): Promise<number> {
  const sandbox = await startSandbox({
    apiPort: options.port ?? 0,
    ...(options.token === undefined ? {} : { token: options.token }),
    env: io.env,
  });
  const scenarios = await listScenarios();
  io.stdout.write(
    [
      `EODH sandbox listening (Ctrl-C stops it)`,
      `  API base:      ${sandbox.baseUrl}`,
      `  files host:    ${sandbox.filesOrigin}`,
      `  foreign host:  ${sandbox.foreignOrigin} (not allowed; stands in for any other site)`,
      `  workspace:     ${sandbox.workspace}`,
      `  token:         ${sandbox.token}`,
      `  scenarios:     ${scenarios.join(', ')} (POST .../processes/<scenario>/execution runs one)`,
      '',
      'Monitor a job from another terminal:',
      `  EODH_TOKEN=${sandbox.token} npx eodh-monitor run <jobId> --workspace ${sandbox.workspace} \\`,
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
