/**
 * The activity contracts (#12): each activities/ module's factory returns only activity functions,
 * the worker registers those objects, and every activity type recorded in the replay fixtures is
 * still registered under the same name (histories name activities, so a rename breaks them).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { mainActivities } from '../../workers/worker';
import { agentbalanceActivities } from '../../workers/temporal-plugin';
import type { createCampaignActivities } from '../../activities/campaign';
import type { createProfilingJobActivities } from '../../activities/profiling-jobs';
import type { createDesignJobActivities } from '../../activities/design-jobs';
import type { createCallAgentActivities } from '../../activities/call-agent';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures');

/** Activity types in a history: scheduled activities, and local activities' markers. */
function activityTypes(node: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(node)) for (const v of node) activityTypes(v, out);
  else if (node && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    const at = o.activityType as { name?: unknown } | undefined;
    if (at && typeof at.name === 'string') out.add(at.name);
    if (o.markerName === 'core_local_activity') {
      const payloads = (o.details as { data?: { payloads?: { data?: string }[] } } | undefined)?.data?.payloads ?? [];
      for (const p of payloads) {
        const decoded = JSON.parse(Buffer.from(p.data ?? '', 'base64').toString('utf8')) as { activity_type?: unknown };
        if (typeof decoded.activity_type === 'string') out.add(decoded.activity_type);
      }
    }
    for (const v of Object.values(o)) activityTypes(v, out);
  }
  return out;
}

test('every activity type in the recorded histories is registered under its name', () => {
  const registered = new Set(Object.keys(mainActivities()));
  const seen = new Set<string>();
  for (const f of readdirSync(FIXTURES).filter((n) => n.endsWith('.json'))) {
    activityTypes(JSON.parse(readFileSync(path.join(FIXTURES, f), 'utf8')), seen);
  }
  // The fixtures cover a model call, grading, metrics, campaign and profiling activities.
  for (const name of ['callAgent', 'gradeAnswer', 'runStarted', 'observeRun', 'planRun', 'prepareCampaign', 'planProfileCall']) {
    assert.ok(seen.has(name), `fixtures record ${name}`);
  }
  for (const name of seen) assert.ok(registered.has(name), `activity ${name} (in a recorded history) is registered`);
});

test('the worker registers exactly the factories’ activities, all functions', () => {
  const acts = mainActivities();
  assert.deepEqual(Object.keys(acts).sort(), [
    'callAgent',
    'callAgentAndGrade',
    'finalizeCampaign',
    'fitAndSaveProfile',
    'fitStoredProfile',
    'gradeAnswer',
    'nextPendingRuns',
    'observeRun',
    'pendingProfileCalls',
    'planProfileCall',
    'planProfiling',
    'planProfilingKeys',
    'planRun',
    'prepareCampaign',
    'recordFailedRun',
    'recordFailedRunIfAbsent',
    'recordProfileCall',
    'recordRun',
    'runStarted',
    'samplesAgree',
    'trainDesignerJob',
  ]);
  for (const [name, fn] of Object.entries(acts)) assert.equal(typeof fn, 'function', name);
  assert.deepEqual(Object.keys(agentbalanceActivities()).sort(), Object.keys(acts).sort());
});

test('overrides replace an activity under the same name', async () => {
  const planRun: NonNullable<Parameters<typeof mainActivities>[0]>['planRun'] = async () => {
    throw new Error('injected');
  };
  const acts = mainActivities({ planRun });
  assert.equal(acts.planRun, planRun);
  assert.notEqual(mainActivities().planRun, planRun);
});

// Type-level: a proxy typed with a factory's return type offers no helper of the module (tsc checks
// these lines in `npm run typecheck`; each directive fails the build if the name became an activity).
type CampaignActs = ReturnType<typeof createCampaignActivities>;
type DesignerActs = ReturnType<typeof createProfilingJobActivities>;
// The design workflow's activities hold only the training job.
export const _designActivities: (keyof ReturnType<typeof createDesignJobActivities>)[] = ['trainDesignerJob'];
type CallAgentActs = ReturnType<typeof createCallAgentActivities>;
// @ts-expect-error leanBackbone is a helper, not an activity
export const _notCampaignActivity: keyof CampaignActs = 'leanBackbone';
// @ts-expect-error isLocalEndpoint is a helper, not an activity
export const _notDesignerActivity: keyof DesignerActs = 'isLocalEndpoint';
// @ts-expect-error makeCallAgent is a factory, not an activity
export const _notCallActivity: keyof CallAgentActs = 'makeCallAgent';
