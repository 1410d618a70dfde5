/**
 * State names of the monitor's state machine. They are part of the interface: they show in the
 * console and in execution history, and the local runtime overrides Task states by name.
 */
export const StateName = {
  validateInput: 'Validate input',
  checkJobStatus: 'Check job status',
  jobFinished: 'Job finished?',
  continueInNewExecution: 'Continue in new execution',
  handedOver: 'Handed over to next execution',
  waitForNextCheck: 'Wait for next check',
  waitForLogLinks: 'Wait for log links',
  planArchive: 'Plan archive',
  archiveArtifacts: 'Archive artifacts',
  archiveBatch: 'Archive batch',
  publishOutcome: 'Publish outcome',
  whichOutcome: 'Which outcome?',
  publishMonitorFailure: 'Publish monitor failure',
  jobSucceeded: 'Job succeeded',
  jobFailed: 'Job failed',
  jobDismissed: 'Job dismissed',
  jobTimedOut: 'Job timed out',
  monitorGaveUp: 'Monitor gave up',
  monitorFailed: 'Monitor failed',
} as const;

export type StateNameValue = (typeof StateName)[keyof typeof StateName];
