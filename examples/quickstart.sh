#!/usr/bin/env bash
# The main job: the seed's whole flow with mtlsctl, end to end, in a fresh temporary state
# folder (../shared/seeds/configurable-proxy-southbound-mtls.txt, Steps 1-4 and the
# troubleshooting guide). Run after `npm ci && npm run build`, from anywhere.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mtlsctl() { node "$here/../bin/run.js" "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MTLSCTL_HOME="$work/state"
cd "$work"
step() { printf '\n== %s\n' "$*" >&2; }

step "Step 1: a local CA, the gateway (client) and backend (server) certificates: the seed's eight files"
mtlsctl ca create RootCA --subject '/CN=my-ca'
mtlsctl certs create my_gateway --ca RootCA --subject '/CN=gateway' --usage client
mtlsctl certs create my_server --ca RootCA --subject '/CN=localhost' --san DNS:localhost,IP:127.0.0.1 --usage server
ls

step "Prove the pair works before uploading it: a real mutual-TLS handshake on 127.0.0.1"
mtlsctl certs handshake --ca RootCA --server my_server --client my_gateway --hostname localhost

step "An environment for configurable proxies with archive deployments"
mtlsctl environments create dev --organization myorg
mtlsctl config set organization myorg
mtlsctl config set environment dev

step "Step 2: keystore with a key+cert alias, truststore with the CA certificate"
mtlsctl keystores create mtls_keystore
mtlsctl aliases add mtls_alias --keystore mtls_keystore --cert-file my_gateway.pem --key-file my_gateway.key --format 'value(alias,type)'
mtlsctl keystores create mtls_truststore
mtlsctl aliases add mtls_ca --keystore mtls_truststore --cert-file RootCA.pem --format 'value(alias,type)'
mtlsctl keystores describe mtls_keystore

step "Steps 3-4: deploy the seed's archive (examples/archives/valid)"
mtlsctl archives deploy --source "$here/archives/valid/src"
mtlsctl archives list

step "Update a certificate for your proxy: the key alias renewed, targetservers.json rewritten, deployed, the old alias deleted"
cp -R "$here/archives/valid/src" src
mtlsctl aliases rotate mtls_alias --keystore mtls_keystore --source src --ca RootCA --delete-old --format 'value(newAlias,archiveDeployment,oldDeleted)'

step "... and the truststore: a new one holding the new CA and the old one's certificates"
mtlsctl ca create RootCA2 --subject '/CN=my-ca-2'
mtlsctl keystores rotate mtls_truststore --new-keystore new_mtls_truststore --source src --ca RootCA2 --copy-old --format 'value(archiveDeployment)'
grep -n '"keyAlias"\|"trustStore"' src/main/apigee/environments/dev/targetservers.json
mtlsctl aliases list --expiring-within 400d

step "Troubleshooting: an archive that names a keystore that does not exist"
set +e
mtlsctl archives deploy --source "$here/archives/missing-keystore/src"
status=$?
set -e
echo "archives deploy exited $status (1 expected)" >&2
[ "$status" = 1 ]
uuid=$(mtlsctl operations list --filter state=FINISHED --format 'value(uuid)' | head -n 1)
mtlsctl operations describe "$uuid"

step "Done: state folder was $MTLSCTL_HOME (removed on exit)"
