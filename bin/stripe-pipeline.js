#!/usr/bin/env node
// Runs the TypeScript command line directly through tsx, so the bin works without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
