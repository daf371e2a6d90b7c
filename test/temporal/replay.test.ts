import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { installRuntime } from '../../workers/runtime';

test('a recorded runMas history replays deterministically against the current workflow code', async () => {
  installRuntime({ logLevel: 'ERROR' });
  const json: unknown = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/run-mas-history.json'), 'utf8'));
  const history = historyFromJSON(json);
  assert.ok((history.events ?? []).length > 10, 'fixture holds a real history');
  // Throws DeterminismViolationError if the workflow code no longer produces the recorded commands.
  await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history, 'replay-fixture');
});
