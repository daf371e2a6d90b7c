/**
 * The package as an outside project uses it: build it (tsc → dist/ with .d.ts), put it in a fresh
 * project's node_modules the way `npm install` links a `file:` dependency, and run
 * examples/worker-plugin: its own worker on its own task queue (no agentbalance worker runs here)
 * designs and runs a MAS.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { startTestTemporal } from '../support/temporal';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');
let env: TestWorkflowEnvironment;
let project: string;

before(async () => {
  env = await startTestTemporal();
  await run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root });
  project = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-outside-'));
  for (const f of ['package.json', 'main.mjs']) fs.copyFileSync(path.join(root, 'examples/worker-plugin', f), path.join(project, f));
  // What `npm install` makes of `file:../..` (a link) and of the SDK packages (one copy, the package's).
  fs.mkdirSync(path.join(project, 'node_modules'));
  fs.symlinkSync(root, path.join(project, 'node_modules/agentbalance'), 'dir');
  fs.symlinkSync(path.join(root, 'node_modules/@temporalio'), path.join(project, 'node_modules/@temporalio'), 'dir');
});

after(async () => {
  await env?.teardown();
  if (project) fs.rmSync(project, { recursive: true, force: true });
});

test('the build emits JS and type declarations for every export', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string } | string> };
  for (const [name, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    assert.ok(fs.existsSync(path.join(root, target.types)), `${name}: ${target.types}`);
    assert.ok(fs.existsSync(path.join(root, target.default)), `${name}: ${target.default}`);
  }
});

test('examples/worker-plugin runs a designed MAS on a worker it set up itself', async () => {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-outside-state-'));
  try {
    const { stdout } = await run(process.execPath, ['main.mjs'], {
      cwd: project,
      timeout: 300_000,
      env: { ...process.env, TEMPORAL_ADDRESS: env.address, TASK_QUEUE: `team-${process.pid}-${Date.now()}`, AGENTBALANCE_STATE_DIR: state, DESIGNER_TRAINING_STEPS: '4' },
    });
    const out = JSON.parse(stdout.trim().split('\n').pop()!) as { agents: string[]; costUsd: number; simulated: boolean; answer: string; design: string };
    assert.ok(out.agents.length >= 1);
    assert.ok(out.agents.every((a) => /:ok$|:skipped|:cancelled/.test(a)), out.agents.join(', '));
    assert.ok(out.costUsd > 0 && out.costUsd <= 0.002 + 1e-12, `cost ${out.costUsd} within the budget`);
    assert.equal(out.simulated, true);
    // The designer's note names its pick; a single request never gets a cascade (several runs).
    assert.match(out.design, /^agentbalance: /);
    assert.doesNotMatch(out.design, /cascade/);
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
  }
});
