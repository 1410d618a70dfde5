import { describe, expect, it } from 'vitest';
import { executionName, maxExecutionNameLength } from '../../lambdas/core/execution-name';

describe('executionName', () => {
  it('uses a UUID job ID as it is', () => {
    expect(executionName('3f9c2e1a-7b44-11f1-9a3e-0242ac120002')).toBe(
      '3f9c2e1a-7b44-11f1-9a3e-0242ac120002',
    );
  });

  it('appends the generation for continuations', () => {
    expect(executionName('3f9c2e1a-7b44-11f1-9a3e-0242ac120002', 3)).toBe(
      '3f9c2e1a-7b44-11f1-9a3e-0242ac120002--g3',
    );
  });

  it('replaces characters Step Functions rejects and adds a hash', () => {
    const name = executionName('job.v1');

    expect(name).toMatch(/^job_v1-[0-9a-f]{12}$/);
    expect(name).not.toBe(executionName('job_v1'));
  });

  it('shortens long job IDs to 80 characters with a stable hash', () => {
    const long = 'a'.repeat(128);
    const name = executionName(long, 12);

    expect(name.length).toBe(maxExecutionNameLength);
    expect(name.endsWith('--g12')).toBe(true);
    expect(executionName(long, 12)).toBe(name);
    expect(executionName(`${'a'.repeat(127)}b`, 12)).not.toBe(name);
  });

  it('keeps every name within the allowed characters and length', () => {
    for (const jobId of ['x', 'ü'.repeat(90), 'a b', '..', '-'.repeat(80), `${'z'.repeat(79)}`]) {
      for (const generation of [0, 1, 9999]) {
        const name = executionName(jobId, generation);
        expect(name.length, jobId).toBeLessThanOrEqual(maxExecutionNameLength);
        expect(name, jobId).toMatch(/^[A-Za-z0-9_-]+$/);
      }
    }
  });

  it('rejects a negative generation', () => {
    expect(() => executionName('job', -1)).toThrow(RangeError);
  });
});
