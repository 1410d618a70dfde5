import { startSandbox } from '../../lib/sandbox';
import { archiveScenario, readScenarioSizes } from './scenario';

/**
 * Serves the archive benchmark's job from the EODH sandbox in a process of its own, so the
 * sandbox's work (generating and hashing content) never shares an event loop with the process
 * being measured. Prints one JSON line when ready and runs until SIGTERM.
 */

const sandbox = await startSandbox({ env: process.env });
const job = await sandbox.submit(archiveScenario(readScenarioSizes(process.env)));

process.once('SIGTERM', () => {
  void sandbox.close().finally(() => process.exit(0));
});

process.stdout.write(
  `${JSON.stringify({
    apiUrl: sandbox.apiUrl,
    allowedHosts: sandbox.allowedHosts,
    token: sandbox.token,
    workspace: sandbox.workspace,
    jobId: job.jobId,
    statusUrl: job.statusUrl,
  })}\n`,
);
