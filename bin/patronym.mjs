#!/usr/bin/env node
// `patronym` (package.json `bin`; `npx patronym …` in the checkout): checks
// the Node version, then runs the command line (src/cli/main.ts), whose
// `serve` starts the broker.
import { nodeVersionProblem } from './node-version.mjs';

const problem = nodeVersionProblem(process.versions.node, process.execPath);
if (problem) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
await import('../src/cli/main.ts');
