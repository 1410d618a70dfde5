import { describe, expect, it } from 'vitest';
import { createProgressWriter } from '../../lib/local/progress';
import { StateName } from '../../lib/state-names';

describe('progress writer', () => {
  it('prints a line for a handover to a new execution', () => {
    let written = '';
    const writer = createProgressWriter({ write: (text: string) => (written += text) }, () => 0);

    writer.update({ kind: 'state', name: StateName.continueInNewExecution });
    writer.update({ kind: 'state', name: StateName.waitForNextCheck });

    expect(written).toBe('[00:00] continuing in a new execution\n');
  });
});
