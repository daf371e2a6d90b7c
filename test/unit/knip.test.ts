/**
 * The dead-code check of `npm run lint` (knip, configured in knip.jsonc) really fires: a
 * deliberately broken sample project in a temp folder, with an unused export and an unused file,
 * fails it; the same project without them passes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';

// The repository's own knip (its package exports no bin path to resolve).
const KNIP = path.resolve(__dirname, '..', '..', 'node_modules', 'knip', 'bin', 'knip.js');

interface KnipIssue {
  file: string;
  exports: { name: string }[];
  files: unknown[];
}

function knip(dir: string): { status: number | null; issues: KnipIssue[] } {
  const r = spawnSync(process.execPath, [KNIP, '--no-progress', '--reporter', 'json'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.error, undefined);
  const out = r.stdout.trim();
  return { status: r.status, issues: out ? (JSON.parse(out) as { issues: KnipIssue[] }).issues : [] };
}

test('knip reports an unused export and an unused file, and passes once they are gone', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'knip-sample-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'knip-sample', private: true }));
  writeFileSync(path.join(dir, 'knip.json'), JSON.stringify({ entry: ['main.ts'], project: ['*.ts'] }));
  writeFileSync(path.join(dir, 'main.ts'), "import { used } from './lib';\nconsole.log(used);\n");
  writeFileSync(path.join(dir, 'lib.ts'), 'export const used = 1;\nexport function unused(): number {\n  return 2;\n}\n');
  writeFileSync(path.join(dir, 'orphan.ts'), 'export const nobody = 3;\n');

  const broken = knip(dir);
  assert.equal(broken.status, 1, 'knip fails the broken sample');
  const lib = broken.issues.find((i) => i.file === 'lib.ts');
  assert.deepEqual(lib?.exports.map((e) => e.name), ['unused']);
  assert.ok(broken.issues.some((i) => i.file === 'orphan.ts' && i.files.length > 0), 'orphan.ts is reported as an unused file');

  writeFileSync(path.join(dir, 'lib.ts'), 'export const used = 1;\n');
  rmSync(path.join(dir, 'orphan.ts'));
  const fixed = knip(dir);
  assert.deepEqual(fixed.issues, []);
  assert.equal(fixed.status, 0);
});
