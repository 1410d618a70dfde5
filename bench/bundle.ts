import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { monitorBundling } from '../lib/monitor-functions';
import { projectRoot } from './child-process';

/** Bundling benchmark entry points with CDK, exactly as the monitor's functions are bundled. */

/** Reads the context of cdk.json, so in-process synths use the feature flags `cdk synth` uses. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(projectRoot, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/** The resources of a synthesized template, with the fields the benchmark reads. */
export interface TemplateResources {
  Resources: Record<
    string,
    {
      Metadata?: Record<string, unknown>;
      Properties?: { Environment?: { Variables?: Record<string, unknown> } };
    }
  >;
}

/** Returns the directory CDK staged a function's bundle in, below the synth output directory. */
export function assetDirectoryOf(
  stack: Stack,
  template: TemplateResources,
  fn: NodejsFunction,
  outdir: string,
): string {
  const logicalId = stack.resolve(stack.getLogicalId(fn.node.defaultChild as CfnResource)) as string;
  const assetPath = template.Resources[logicalId]?.Metadata?.['aws:asset:path'];
  if (typeof assetPath !== 'string') {
    throw new Error(`no asset path recorded for ${fn.node.path} (${logicalId})`);
  }
  return join(outdir, assetPath);
}

/**
 * Bundles each entry (a path relative to the project root) with the monitor functions' esbuild
 * options and returns the path of each bundle's `index.mjs`, by the same keys.
 */
export function bundleEntries<K extends string>(
  entries: Record<K, string>,
  outdir: string,
): Record<K, string> {
  const app = new App({ outdir, context: { ...cdkJsonContext(), 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'BenchmarkEntries');
  const functions = Object.entries<string>(entries).map(([key, entry]) => {
    const fn = new NodejsFunction(stack, `Entry-${key}`, {
      entry: join(projectRoot, entry),
      projectRoot,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      bundling: monitorBundling,
    });
    return [key as K, fn] as const;
  });
  const template = app.synth().getStackByName(stack.stackName).template as TemplateResources;

  const files = {} as Record<K, string>;
  for (const [key, fn] of functions) {
    files[key] = join(assetDirectoryOf(stack, template, fn, outdir), 'index.mjs');
  }
  return files;
}
