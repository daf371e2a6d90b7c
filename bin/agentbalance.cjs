#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so there is no build step to forget.
require('tsx/cjs');
require('../client/cli.ts');
