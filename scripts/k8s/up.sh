#!/usr/bin/env bash
# Starts a throwaway control plane for debugging and prints its KUBECONFIG; Ctrl-C stops it.
# The TypeScript lives under test/helpers (where the type-checker and linter see it).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
exec "$root/scripts/node" "$root/test/helpers/control-plane/up.ts" "$@"
