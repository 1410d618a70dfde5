import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import type { MonitorStack } from '../../lib/monitor-stack';
import { addMonitorNagSuppressions } from '../../lib/nag';
import { synthMonitorStack } from './synth';

const outdirs: string[] = [];
function temporaryOutdir(): string {
  const outdir = mkdtempSync(join(tmpdir(), 'eodh-nag-'));
  outdirs.push(outdir);
  return outdir;
}

afterAll(() => {
  for (const outdir of outdirs) {
    rmSync(outdir, { recursive: true, force: true });
  }
});

/** Registers the AwsSolutions pack the way bin/app.ts does. */
function withNagChecks(app: IConstruct, stack: MonitorStack): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  addMonitorNagSuppressions(stack);
}

interface Acknowledgment {
  path: string;
  id: string;
  reason: string;
}

function acknowledgmentsIn(root: IConstruct): Acknowledgment[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

interface ValidationReport {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

const outdir = temporaryOutdir();
const { app } = synthMonitorStack({ outdir, prepare: withNagChecks });

describe('AwsSolutions checks', () => {
  it('report no unacknowledged finding', () => {
    const report = JSON.parse(
      readFileSync(join(outdir, 'validation-report.json'), 'utf8'),
    ) as ValidationReport;
    const findings = report.pluginReports
      .flatMap((pluginReport) => pluginReport.violations)
      .filter((violation) => violation.ruleName.startsWith('AwsSolutions-'))
      .map((violation) => `${violation.severity} ${violation.ruleName}`);
    expect(findings).toEqual([]);
  });

  it('find no error or warning after synthesis', () => {
    const { violations } = new AwsSolutionsChecks().validateScope(app);
    const findings = violations.map((violation) => `${violation.severity} ${violation.ruleName}`);
    expect(findings).toEqual([]);
  });

  it('give every acknowledgment a reason', () => {
    const acknowledgments = acknowledgmentsIn(app);
    expect(acknowledgments.length).toBeGreaterThan(0);
    for (const acknowledgment of acknowledgments) {
      expect(acknowledgment.id).toMatch(/^AwsSolutions-/);
      expect(
        acknowledgment.reason.length,
        `${acknowledgment.path} ${acknowledgment.id}`,
      ).toBeGreaterThanOrEqual(20);
    }
  });

  it('acknowledge only findings that occur', () => {
    const unchecked = synthMonitorStack();
    const findings = new AwsSolutionsChecks().validateScope(unchecked.app).violations.flatMap((violation) =>
      violation.violatingResources.map((resource) => ({
        id: violation.ruleName,
        path: resource.constructPath ?? '',
      })),
    );
    for (const acknowledgment of acknowledgmentsIn(app)) {
      const matched = findings.some(
        (finding) =>
          finding.id === acknowledgment.id &&
          (finding.path === acknowledgment.path || finding.path.startsWith(`${acknowledgment.path}/`)),
      );
      expect(matched, `${acknowledgment.path} ${acknowledgment.id}`).toBe(true);
    }
  });

  it('fail synthesis on a new wildcard grant', () => {
    const synthWithExtraGrant = () =>
      synthMonitorStack({
        outdir: temporaryOutdir(),
        prepare: (extraApp, stack) => {
          withNagChecks(extraApp, stack);
          stack.functions.validateInput.addToRolePolicy(
            new iam.PolicyStatement({
              actions: ['s3:GetObject'],
              resources: ['arn:aws:s3:::other-bucket/*'],
            }),
          );
        },
      });
    expect(synthWithExtraGrant).toThrow('AwsSolutions-IAM5[Resource::arn:aws:s3:::other-bucket/*]');
  });
});
