#!/usr/bin/env bash
# Makes a fresh clone runnable: Node dependencies (from the lockfile) and the Temporal CLI.
# Idempotent and quiet when everything is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ ! -d node_modules/@temporalio/worker ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "agentbalance: installing Node dependencies (npm ci)..." >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
if [ -z "${TEMPORAL_ADDRESS:-}" ] && ! command -v temporal >/dev/null 2>&1; then
  bash infra/install-temporal.sh
fi
# promtool (Debian/Ubuntu package `prometheus`) checks infra/prometheus/prometheus.yml in the tests.
# Installed only in CI or when asked (AGENTBALANCE_INSTALL_PROMTOOL=1); elsewhere that test skips.
if { [ "${CI:-}" = "true" ] || [ "${AGENTBALANCE_INSTALL_PROMTOOL:-}" = "1" ]; } && ! command -v promtool >/dev/null 2>&1; then
  echo "agentbalance: installing promtool (apt package prometheus)..." >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; } >&2 \
    || echo "agentbalance: could not install promtool; test/unit/prometheus-config.test.ts will fail in CI" >&2
fi
