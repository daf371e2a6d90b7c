#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so there is no build step to forget.
require('tsx/cjs');
const { main } = require('../client/cli.ts');
main(process.argv).then((code) => process.exit(code));
