#!/usr/bin/env bash
# The main job: the seed's flow end to end with mtlsctl, in a fresh temporary state folder.
# Run from anywhere after `npm ci && npm run build`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mtlsctl() { node "$here/../bin/run.js" "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MTLSCTL_HOME="$work/state"
cd "$work"
step() { printf '\n== %s\n' "$*" >&2; }

step "Environment: a configurable-proxy, archive-deployment environment"
mtlsctl environments create dev --organization myorg
mtlsctl config set organization myorg
mtlsctl environments list
mtlsctl environments describe dev --format json

step "Done: state folder was $MTLSCTL_HOME (removed on exit)"
