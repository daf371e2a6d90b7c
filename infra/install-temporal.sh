#!/usr/bin/env bash
# Installs the Temporal CLI (dev server) into the project-local tools folder. Idempotent.
# v1.5.1 is pinned: later tags carry a `replace` directive that breaks `go install`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="$ROOT/.tools/bin"
VERSION="v1.5.1"
if [ -x "$BIN_DIR/temporal" ]; then
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "agentbalance: Go is not installed, so the Temporal dev server cannot be built here." >&2
  echo "  Either install Go (https://go.dev/dl) and re-run, put a 'temporal' binary on PATH," >&2
  echo "  or point agentbalance at an existing server: export TEMPORAL_ADDRESS=host:7233 [TEMPORAL_NAMESPACE=...]" >&2
  exit 3
fi
mkdir -p "$BIN_DIR"
echo "agentbalance: building the Temporal CLI $VERSION with 'go install' (first run only; takes several minutes)..." >&2
GOBIN="$BIN_DIR" GOFLAGS="${GOFLAGS:-} -buildvcs=false" go install -v "github.com/temporalio/cli/cmd/temporal@$VERSION" 2>&1 \
  | awk '{ n++; if (n % 25 == 0) { printf "  ... %d packages compiled (%s)\n", n, $0 > "/dev/stderr" } }'
if [ ! -x "$BIN_DIR/temporal" ]; then
  echo "agentbalance: 'go install' did not produce $BIN_DIR/temporal" >&2
  exit 4
fi
echo "agentbalance: Temporal CLI ready at $BIN_DIR/temporal" >&2
