#!/usr/bin/env tsx
import { main } from '../lib/cli/program';

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
process.exitCode = code;
