#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, type-checks, runs every test file
# with node's test runner against a real Temporal dev server.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash infra/bootstrap.sh
echo "== typecheck and lint" >&2
npx tsc --noEmit -p .
# eslint (layering included) and knip (dead code): package.json `lint`.
npm run lint
echo "== tests" >&2
# One file at a time (the machine has 2 cores), all against one Temporal dev server that
# test/support/shared-temporal.ts starts for the whole run: each file takes a namespace of its own
# there; the tests that restart or kill a server still start their own.
node --import tsx test/support/shared-temporal.ts \
  node --import tsx --test --test-concurrency=1 --test-reporter=spec test/unit/*.test.ts test/temporal/*.test.ts
