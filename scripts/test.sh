#!/usr/bin/env bash
# The README's test command: sets up a fresh machine and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# System tools the tests use for real: openssl (certificates, s_server handshakes),
# iptables (iptables-restore --test on the mesh's rules files), nginx (the seed article's
# mTLS backend for certs probe) and iproute2 (`ip netns` for hybrid check, as root).
need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || need+=(iproute2)
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
exit $status
