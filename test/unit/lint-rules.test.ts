/**
 * The layering rules of eslint.config.mjs really fire: deliberately broken samples, linted in memory
 * with ESLint's Node API under the repository's own config, as if they were files of each folder.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import test from 'node:test';
import { ESLint } from 'eslint';
import { PROJECT_ROOT } from '../../infra/paths';

const ROOT = PROJECT_ROOT;
const eslint = new ESLint({ cwd: ROOT });

/** Rule ids ESLint reports for `code` as if it were the file `file` (relative to the repo root). */
async function ruleIds(file: string, code: string): Promise<string[]> {
  const [res] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  assert.ok(res, 'ESLint returned no result');
  const fatal = res.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], `sample did not parse: ${fatal.map((m) => m.message).join('; ')}`);
  return res.messages.map((m) => m.ruleId ?? '');
}

const WF_RULE = '@typescript-eslint/no-restricted-imports';

test('workflows/: a value import from activities/ fails lint', async () => {
  assert.deepEqual(
    await ruleIds('workflows/sample.ts', "import { callAgent } from '../activities/call-agent';\nexport const f = callAgent;\n"),
    [WF_RULE],
  );
  assert.deepEqual(
    await ruleIds('workflows/sample.ts', "import * as acts from '../activities/campaign';\nexport const a = acts;\n"),
    [WF_RULE],
  );
  assert.deepEqual(await ruleIds('workflows/sample.ts', "export { gradeAnswer } from '../activities/grading';\n"), [WF_RULE]);
  // A value and a type in one import statement is still a value import.
  assert.deepEqual(
    await ruleIds(
      'workflows/sample.ts',
      "import { callAgent, type CallAgentInput } from '../activities/call-agent';\nexport const f: (i: CallAgentInput) => unknown = callAgent;\n",
    ),
    [WF_RULE],
  );
});

test('workflows/: type-only imports from activities/ pass', async () => {
  assert.deepEqual(
    await ruleIds(
      'workflows/sample.ts',
      "import type * as acts from '../activities/call-agent';\nexport type A = typeof acts;\n",
    ),
    [],
  );
  assert.deepEqual(
    await ruleIds(
      'workflows/sample.ts',
      "import { type CallAgentInput } from '../activities/call-agent';\nexport type I = CallAgentInput;\n",
    ),
    [],
  );
  assert.deepEqual(
    await ruleIds(
      'workflows/sample.ts',
      "import type { RunMasInput } from '../core/mas';\nimport { validateSpec } from '../core/dag';\nexport const v = validateSpec;\nexport type I = RunMasInput;\n",
    ),
    [],
  );
});

test('workflows/: no Node I/O, no client/, workers/ or infra/', async () => {
  for (const src of ['node:fs', 'fs', '../client/cli', '../workers/worker', '../infra/paths']) {
    assert.deepEqual(await ruleIds('workflows/sample.ts', `import * as m from '${src}';\nexport const x = m;\n`), [WF_RULE], src);
    // Not even as types: these layers are not part of a workflow's contract.
    assert.deepEqual(
      await ruleIds('workflows/sample.ts', `import type * as m from '${src}';\nexport type X = typeof m;\n`),
      [WF_RULE],
      src,
    );
  }
});

test('core/: imports nothing of Temporal, Node I/O or the other layers, from any depth', async () => {
  for (const file of ['core/sample.ts', 'core/designer/sample.ts']) {
    const up = file.split('/').length === 2 ? '..' : '../..';
    for (const src of [
      '@temporalio/workflow',
      'node:fs',
      'child_process',
      `${up}/activities/call-agent`,
      `${up}/workflows/run-mas`,
      `${up}/client/cli`,
      `${up}/workers/worker`,
      `${up}/infra/paths`,
    ]) {
      assert.deepEqual(
        await ruleIds(file, `import type * as m from '${src}';\nexport type X = typeof m;\n`),
        ['no-restricted-imports'],
        `${file}: ${src}`,
      );
    }
    assert.deepEqual(await ruleIds(file, `import { z } from 'zod';\nexport const s = z.string();\n`), [], file);
  }
  assert.deepEqual(await ruleIds('core/sample.ts', 'export const r = Math.random();\n'), ['no-restricted-syntax']);
});

test('activities/: never import workflows/, from any depth', async () => {
  assert.deepEqual(
    await ruleIds('activities/sample.ts', "import { runMas } from '../workflows/run-mas';\nexport const r = runMas;\n"),
    ['no-restricted-imports'],
  );
  assert.deepEqual(
    await ruleIds(
      'activities/providers/sim/sample.ts',
      "import type { runMas } from '../../../workflows/run-mas';\nexport type R = typeof runMas;\n",
    ),
    ['no-restricted-imports'],
  );
  assert.deepEqual(
    await ruleIds('activities/sample.ts', "import { validateSpec } from '../core/dag';\nexport const v = validateSpec;\n"),
    [],
  );
});
