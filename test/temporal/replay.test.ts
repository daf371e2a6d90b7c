import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, Worker, type ReplayWorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { installRuntime } from '../../workers/runtime';
import { GRADE_IN_CALL_PATCH, LOCAL_SIM_CALLS_PATCH, OBSERVE_SINKS_PATCH, OVERLAP_BOOKINGS_PATCH } from '../../workflows/run-mas';
import { CAMPAIGN_BATCHES_PATCH } from '../../workflows/campaign';

// The patch id of keyed profiling in workflows/profiling.ts (recorded in histories, so it never changes).
const PROFILE_KEYS_PATCH = 'agentbalance-profile-keys-v1';

// The workflow code is bundled (webpack, seconds) once for every replay below.
let bundle: WorkflowBundleWithSourceMap;
before(async () => {
  installRuntime({ logLevel: 'ERROR' });
  bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: { trace() {}, debug() {}, info() {}, warn() {}, error: (m: string) => console.error(m), log() {} } });
});
const replayOptions = (): ReplayWorkerOptions => ({ workflowBundle: bundle });
const fixture = (file: string) => historyFromJSON(JSON.parse(readFileSync(path.join(__dirname, '../fixtures', file), 'utf8')) as unknown);
/** The patch ids a history's markers record. */
const patchesIn = (history: ReturnType<typeof fixture>): string[] =>
  (history.events ?? [])
    .map((e) => e.markerRecordedEventAttributes)
    .filter((m) => m?.markerName === 'core_patch')
    .map((m) => Buffer.from(m!.details!['patch-data']!.payloads![0]!.data!).toString());

test('a recorded runMas history replays deterministically against the current workflow code', async () => {
  const json: unknown = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/run-mas-history.json'), 'utf8'));
  const history = historyFromJSON(json);
  assert.ok((history.events ?? []).length > 10, 'fixture holds a real history');
  // Throws DeterminismViolationError if the workflow code no longer produces the recorded commands.
  await Worker.runReplayHistory(replayOptions(), history, 'replay-fixture');
});

test('a runMas history with simulated calls as local activities (time factor 0, #17) replays deterministically', async () => {
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
  await Worker.runReplayHistory(replayOptions(), history, 'replay-fixture');
});

test('a runMas history whose metrics are booked through workflow sinks (#17) replays deterministically', async () => {
  const history = fixture('run-mas-sinks-history.json');
  assert.ok(patchesIn(history).some((p) => p.includes(OBSERVE_SINKS_PATCH)), 'fixture was recorded behind the sinks patch');
  const localActivities = (history.events ?? [])
    .map((e) => e.markerRecordedEventAttributes)
    .filter((m) => m?.markerName === 'core_local_activity')
    .map((m) => Buffer.from(m!.details!['data']!.payloads![0]!.data!).toString());
  assert.equal(localActivities.filter((d) => d.includes('"callAgent"')).length, 4, 'the calls are still local activities');
  assert.equal(localActivities.filter((d) => /"(runStarted|observeRun)"/.test(d)).length, 0, 'no booking left a marker');
  await Worker.runReplayHistory(replayOptions(), history, 'replay-fixture');
});

test('a runMas history whose decision call graded its own answer (#17) replays deterministically', async () => {
  const history = fixture('run-mas-graded-history.json');
  assert.ok(patchesIn(history).some((p) => p.includes(GRADE_IN_CALL_PATCH)), 'fixture was recorded behind the grade-in-call patch');
  const types = (history.events ?? [])
    .map((e) => e.markerRecordedEventAttributes)
    .filter((m) => m?.markerName === 'core_local_activity')
    .map((m) => /"activity_type":"(\w+)"/.exec(Buffer.from(m!.details!['data']!.payloads![0]!.data!).toString())?.[1]);
  // a (429, then retried) and b call; the decision agent d calls and grades; no grading of its own.
  assert.deepEqual(types.sort(), ['callAgent', 'callAgent', 'callAgent', 'callAgentAndGrade']);
  await Worker.runReplayHistory(replayOptions(), history, 'replay-fixture');
});

test('a real-time runMas history that hit its deadline (timers fired, a call cancelled) replays deterministically', async () => {
  const history = historyFromJSON(JSON.parse(readFileSync(path.join(__dirname, '../fixtures/run-mas-deadline-history.json'), 'utf8')) as unknown);
  const events = history.events ?? [];
  assert.ok(events.some((e) => e.timerFiredEventAttributes), 'the soft-deadline timer fired');
  assert.ok(events.some((e) => e.activityTaskCancelRequestedEventAttributes), 'an outstanding call was cancelled');
  await Worker.runReplayHistory(replayOptions(), history, 'replay-fixture');
});

test('a runMas history whose local calls finished in another order than they started replays deterministically', async () => {
  const history = historyFromJSON(
    JSON.parse(readFileSync(path.join(__dirname, '../fixtures/run-mas-out-of-order-history.json'), 'utf8')) as unknown,
  );
  const seqs = (history.events ?? [])
    .map((e) => e.markerRecordedEventAttributes)
    .filter((m) => m?.markerName === 'core_local_activity')
    .map(
      (m) =>
        JSON.parse(Buffer.from(m!.details!['data']!.payloads![0]!.data!).toString()) as { seq: number; activity_type: string },
    )
    .filter((d) => d.activity_type === 'callAgent')
    .map((d) => d.seq);
  // Recorded in completion order: a's call (the lowest sequence number) finished after b's and d's.
  assert.notDeepEqual(
    seqs,
    [...seqs].sort((x, y) => x - y),
    'the fixture holds calls that finished out of order',
  );
  await Worker.runReplayHistory(replayOptions(), history, 'replay-fixture');
});

// The campaign workflow and one of its runs, recorded with the current code and with the code from
// before the failure-handling patch (agentbalance-campaign-failures-v1), and keyed profiling
// (agentbalance-profile-keys-v1) with its continue-as-new: all must replay.
for (const [file, id] of [
  ['campaign-history.json', 'c-replay-fixture'],
  ['campaign-run-history.json', 'c-replay-fixture.run'],
  ['campaign-history-prepatch.json', 'c-replay-prepatch'],
  ['campaign-run-history-prepatch.json', 'c-replay-prepatch.run'],
  ['campaign-batches-history.json', 'c-replay-batches'],
  ['campaign-batch-history.json', 'c-replay-batches.batch'],
  ['profile-history.json', 'profile-replay-fixture'],
  ['profile-call-history.json', 'profile-replay-fixture.0'],
] as const) {
  test(`a recorded campaign history (${file}) replays deterministically`, async () => {
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(__dirname, '../fixtures', file), 'utf8')) as unknown);
    assert.ok((history.events ?? []).length > 5, 'fixture holds a real history');
    await Worker.runReplayHistory(replayOptions(), history, id);
  });
}

test('the batched campaign fixture was recorded behind the batches patch, two runs per child', () => {
  const history = historyFromJSON(
    JSON.parse(readFileSync(path.join(__dirname, '../fixtures/campaign-batches-history.json'), 'utf8')) as unknown,
  );
  const events = history.events ?? [];
  const patches = events
    .map((e) => e.markerRecordedEventAttributes)
    .filter((m) => m?.markerName === 'core_patch')
    .map((m) => Buffer.from(m!.details!['patch-data']!.payloads![0]!.data!).toString());
  assert.ok(patches.some((p) => p.includes(CAMPAIGN_BATCHES_PATCH)));
  const children = events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  assert.equal(children.length, 2, 'four runs in two children');
  for (const c of children)
    assert.equal(c.startChildWorkflowExecutionInitiatedEventAttributes!.workflowType!.name, 'campaignBatch');
});

test('a real-time runMas history whose metric bookings overlap the calls (#17) replays deterministically', async () => {
  const json: unknown = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/run-mas-realtime-history.json'), 'utf8'));
  const history = historyFromJSON(json);
  const events = history.events ?? [];
  const markerText = (i: number): string => {
    const m = events[i]!.markerRecordedEventAttributes!;
    const key = m.markerName === 'core_patch' ? 'patch-data' : 'data';
    return Buffer.from(m.details![key]!.payloads![0]!.data!).toString();
  };
  const markerAt = (name: string, text: string): number =>
    events.findIndex((e, i) => e.markerRecordedEventAttributes?.markerName === name && markerText(i).includes(text));
  assert.ok(markerAt('core_patch', OVERLAP_BOOKINGS_PATCH) >= 0, 'fixture was recorded behind the overlap patch');
  const scheduled = events.map((e, i) => (e.activityTaskScheduledEventAttributes ? i : -1)).filter((i) => i >= 0);
  // a (429, then retried), b, d: four calls, all regular activity tasks (the run waits in real time).
  assert.equal(scheduled.length, 4);
  // The first calls were scheduled without waiting for the run-started booking: before the patch
  // its marker came first and the calls followed it.
  const startedBooking = markerAt('core_local_activity', '"runStarted"');
  assert.ok(startedBooking > scheduled[1]!, 'the first calls are scheduled before the runStarted booking resolves');
  await Worker.runReplayHistory(replayOptions(), history, 'replay-fixture');
});

// The design workflow (one training activity) and profiling without a profileId: the branch that
// histories from before PROFILE_KEYS_PATCH take, whose marker it must not record.
test('a recorded designPool history replays deterministically', async () => {
  const history = fixture('design-history.json');
  const scheduled = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : []));
  assert.deepEqual(scheduled, ['trainDesignerJob']);
  await Worker.runReplayHistory(replayOptions(), history, 'design-replay-fixture');
});

test('a profilePool history without a profileId (the unpatched branch) replays deterministically', async () => {
  const legacy = fixture('profile-legacy-history.json');
  assert.equal((legacy.events ?? []).filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length, 14, 'one child run per backbone');
  assert.deepEqual(patchesIn(legacy), []);
  assert.ok(patchesIn(fixture('profile-history.json')).some((p) => p.includes(PROFILE_KEYS_PATCH)), 'the keyed fixture is the patched branch');
  await Worker.runReplayHistory(replayOptions(), legacy, 'profile-legacy-replay-fixture');
});
