import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, type CfnResource, Stack } from 'aws-cdk-lib';
import { readStackConfig } from '../lib/config';
import { type MonitorFunctionName, MonitorFunctions, monitorFunctionNames } from '../lib/monitor-functions';
import { assetDirectoryOf, cdkJsonContext, type TemplateResources } from './bundle';
import { lastJsonLine, nodeBinary, projectRoot, runChild } from './child-process';
import { bytesByPackage, type Metafile, type PackageShare } from './metafile';
import { mebibyte, median, ratio, round } from './stats';

/**
 * Cold start: each handler bundled as `cdk synth` bundles it (the `MonitorFunctions` construct
 * with its own esbuild options), and again with the AWS SDK left external, as the Node.js
 * Lambda runtime provides it. Measures bundle sizes and module initialisation: the median time
 * of `import()` of the bundle in fresh Node processes.
 */

export const bundleTargetBytes = mebibyte;

type Variant = 'bundled' | 'sdkExternal';

export interface HandlerColdStart {
  name: MonitorFunctionName;
  bundleBytes: number;
  bundleBytesSdkExternal: number;
  /** Median milliseconds to import the bundle, AWS SDK bundled (as deployed). */
  initMs: number;
  initMsSdkExternal: number;
  /** `initMs / initMsSdkExternal`. */
  initRatio: number | null;
  /** `bundleBytes / bundleBytesSdkExternal`. */
  sizeRatio: number | null;
  underTarget: boolean;
  /** The largest packages in the deployed bundle. */
  largestPackages: PackageShare[];
}

export interface ColdStartResult {
  /** Fresh processes per handler and variant; each reports one import time. */
  runs: number;
  targetBytes: number;
  handlers: HandlerColdStart[];
}

interface BuiltBundle {
  file: string;
  bytes: number;
  metafile: Metafile;
  environment: Record<string, string>;
}

/**
 * Synthesizes a stack with two copies of the monitor's functions, bundled for real by CDK:
 * one as deployed and one with `bundleAwsSDK: false`. Both write an esbuild metafile.
 */
function buildBundles(outdir: string): Record<Variant, Record<MonitorFunctionName, BuiltBundle>> {
  const app = new App({
    outdir,
    context: { ...cdkJsonContext(), 'aws:cdk:enable-asset-metadata': true },
  });
  const stack = new Stack(app, 'BundleBenchmark');
  const config = readStackConfig(() => undefined);
  const constructs: Record<Variant, MonitorFunctions> = {
    bundled: new MonitorFunctions(stack, 'Bundled', { config, bundlingOverrides: { metafile: true } }),
    sdkExternal: new MonitorFunctions(stack, 'SdkExternal', {
      config,
      bundlingOverrides: { metafile: true, bundleAwsSDK: false },
    }),
  };
  const template = app.synth().getStackByName(stack.stackName).template as TemplateResources;

  const built = { bundled: {}, sdkExternal: {} } as Record<Variant, Record<MonitorFunctionName, BuiltBundle>>;
  for (const variant of ['bundled', 'sdkExternal'] as const) {
    for (const name of monitorFunctionNames) {
      const fn = constructs[variant].byName[name];
      const directory = assetDirectoryOf(stack, template, fn, outdir);
      const file = join(directory, 'index.mjs');
      const logicalId = stack.resolve(stack.getLogicalId(fn.node.defaultChild as CfnResource)) as string;
      const resource = template.Resources[logicalId];
      // Only plain strings: values that CloudFormation resolves at deploy time are left out.
      const environment: Record<string, string> = {};
      for (const [key, value] of Object.entries(resource?.Properties?.Environment?.Variables ?? {})) {
        if (typeof value === 'string') environment[key] = value;
      }
      built[variant][name] = {
        file,
        bytes: statSync(file).size,
        metafile: JSON.parse(readFileSync(join(directory, 'index.meta.json'), 'utf8')) as Metafile,
        environment,
      };
    }
  }
  return built;
}

// Prints the milliseconds that importing the module at argv[1] took, from inside the process,
// so Node's own start-up is not counted.
const importTimer = [
  'const url = process.argv[1];',
  'const start = performance.now();',
  'await import(url);',
  'process.stdout.write(JSON.stringify({ ms: performance.now() - start }) + "\\n");',
  'process.exit(0);',
].join('\n');

/** Imports a bundle in a fresh Node process with the function's environment; returns milliseconds. */
async function importMilliseconds(bundle: BuiltBundle, name: MonitorFunctionName): Promise<number> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    ...bundle.environment,
    AWS_REGION: 'eu-west-2',
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    // Guards only: importing a handler sends no request, and none may leave loopback.
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  };
  const { stdout } = await runChild(
    nodeBinary,
    ['--input-type=module', '--eval', importTimer, pathToFileURL(bundle.file).href],
    { env, timeoutMs: 60_000 },
  );
  return lastJsonLine<{ ms: number }>(stdout).ms;
}

export interface ColdStartOptions {
  /** Fresh processes per handler and variant. */
  runs: number;
  log: (line: string) => void;
}

export async function runColdStartBenchmark(options: ColdStartOptions): Promise<ColdStartResult> {
  const outdir = mkdtempSync(join(tmpdir(), 'eodh-bench-bundles-'));
  try {
    options.log('cold start: bundling each handler twice with CDK (SDK bundled, SDK external)');
    const bundles = buildBundles(outdir);
    // The SDK-external bundles import @aws-sdk/* at run time, which Lambda's runtime provides.
    // Here the project's node_modules replaces the runtime's copy.
    symlinkSync(join(projectRoot, 'node_modules'), join(outdir, 'node_modules'), 'dir');

    const noSamples = () =>
      Object.fromEntries(monitorFunctionNames.map((name) => [name, [] as number[]])) as Record<
        MonitorFunctionName,
        number[]
      >;
    const samples: Record<Variant, Record<MonitorFunctionName, number[]>> = {
      bundled: noSamples(),
      sdkExternal: noSamples(),
    };
    for (let run = 0; run < options.runs; run += 1) {
      options.log(`cold start: import run ${run + 1} of ${options.runs}`);
      // Interleaved, so drift in machine load affects both variants alike.
      for (const name of monitorFunctionNames) {
        for (const variant of ['bundled', 'sdkExternal'] as const) {
          samples[variant][name].push(await importMilliseconds(bundles[variant][name], name));
        }
      }
    }

    const handlers = monitorFunctionNames.map((name): HandlerColdStart => {
      const bundled = bundles.bundled[name];
      const external = bundles.sdkExternal[name];
      const initMs = median(samples.bundled[name]);
      const initMsSdkExternal = median(samples.sdkExternal[name]);
      const initRatio = ratio(initMs, initMsSdkExternal);
      const sizeRatio = ratio(bundled.bytes, external.bytes);
      return {
        name,
        bundleBytes: bundled.bytes,
        bundleBytesSdkExternal: external.bytes,
        initMs: round(initMs, 1),
        initMsSdkExternal: round(initMsSdkExternal, 1),
        initRatio: initRatio === null ? null : round(initRatio),
        sizeRatio: sizeRatio === null ? null : round(sizeRatio),
        underTarget: bundled.bytes < bundleTargetBytes,
        largestPackages: bytesByPackage(bundled.metafile).slice(0, 6),
      };
    });
    return { runs: options.runs, targetBytes: bundleTargetBytes, handlers };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
