#!/usr/bin/env bash
# Rebuilds the UI into a temporary folder and fails if it differs from the
# committed ui/dist (CI runs this so the embedded UI never drifts from src/).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
UI_DIST_OUT="$tmp" npm run build
if ! diff -r "$tmp" dist; then
  echo "ui/dist is stale: run 'cd ui && npm ci && npm run build' and commit ui/dist" >&2
  exit 1
fi
echo "ui/dist is up to date"
