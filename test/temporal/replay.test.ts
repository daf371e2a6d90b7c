import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { installRuntime } from '../../workers/runtime';
import { LOCAL_SIM_CALLS_PATCH } from '../../workflows/run-mas';

test('a recorded runMas history replays deterministically against the current workflow code', async () => {
  installRuntime({ logLevel: 'ERROR' });
  const json: unknown = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/run-mas-history.json'), 'utf8'));
  const history = historyFromJSON(json);
  assert.ok((history.events ?? []).length > 10, 'fixture holds a real history');
  // Throws DeterminismViolationError if the workflow code no longer produces the recorded commands.
  await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history, 'replay-fixture');
});

test('a runMas history with simulated calls as local activities (time factor 0, #17) replays deterministically', async () => {
  installRuntime({ logLevel: 'ERROR' });
  const json: unknown = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/run-mas-local-sim-history.json'), 'utf8'));
  const history = historyFromJSON(json);
  const events = history.events ?? [];
  const markers = events.map((e) => e.markerRecordedEventAttributes).filter((m) => m !== null && m !== undefined);
  const patches = markers.filter((m) => m.markerName === 'core_patch').map((m) => Buffer.from(m.details!['patch-data']!.payloads![0]!.data!).toString());
  assert.ok(patches.some((p) => p.includes(LOCAL_SIM_CALLS_PATCH)), 'fixture was recorded behind the local-calls patch');
  const localCalls = markers.filter((m) => m.markerName === 'core_local_activity' && Buffer.from(m.details!['data']!.payloads![0]!.data!).toString().includes('"callAgent"'));
  // a (429, then retried), b, d: four calls, none of them an activity task.
  assert.equal(localCalls.length, 4);
  assert.equal(events.filter((e) => e.activityTaskScheduledEventAttributes).length, 0);
  await Worker.runReplayHistory({ workflowsPath: require.resolve('../../workflows') }, history, 'replay-fixture');
});
