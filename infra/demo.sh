#!/usr/bin/env bash
# The main job on embedded defaults: installs what is missing, then runs a small campaign on the
# built-in sample with the simulated pool (it starts the Temporal dev server and a worker itself).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash infra/bootstrap.sh
exec node bin/agentbalance.cjs demo "$@"
