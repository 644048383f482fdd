#!/usr/bin/env node
// The sources are TypeScript; tsx compiles them on load so that `npm install` needs no build step.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/outputs/cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
