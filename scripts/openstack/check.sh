#!/usr/bin/env bash
# Smoke test of the clouds that `scripts/clouds up DIR` started: run as
# `scripts/clouds check DIR`. On each cloud, as the non-admin user and only
# through the REST APIs (curl + jq, Keystone v3 token, catalog endpoints):
# boot a server on the private network and wait for ACTIVE; createImage and
# compare the snapshot's bytes with the base image's; allocate a floating IP
# on the external network and associate it with the server's port; read
# os-simple-tenant-usage; import a keypair; create a security group with a
# rule and add it to the server; then delete all it created. Exit 0 only if
# everything worked on both clouds.
# shellcheck disable=SC2016  # jq programs use $variables: single quotes
set -euo pipefail

DIR=$1
# shellcheck disable=SC1091
source "$DIR/clouds.env"
WAIT=${CLOUDS_CHECK_TIMEOUT:-120}
PUBKEY='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJcaI1a6fvSG/HscelLDVaJLgFyE61MfvVh/kwoaAHBr clouds-check'
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '%s\n' "check $CLOUD: $*"; }
# Ends the check of this cloud (a subshell); its EXIT trap cleans up.
fail() { printf '%s\n' "check $CLOUD: FAILED: $*" >&2; exit 1; }

# req METHOD URL [JSON]: the answer's body goes to $TMP/body, its status to
# $STATUS. Nova calls carry microversion 2.72.
req() {
  local method=$1 url=$2 data=${3:-}
  local args=(-s -o "$TMP/body" -w '%{http_code}' -X "$method" --max-time 60
              -H "X-Auth-Token: $TOKEN" -H 'Accept: application/json'
              -H 'X-OpenStack-Nova-API-Version: 2.72')
  [ -n "$data" ] && args+=(-H 'Content-Type: application/json' -d "$data")
  STATUS=$(curl "${args[@]}" "$url") || STATUS=000
}
# expect CODE... : the last req answered one of these codes.
expect() {
  local c
  for c in "$@"; do [ "$STATUS" = "$c" ] && return 0; done
  fail "$LAST -> HTTP $STATUS (want $*): $(head -c 600 "$TMP/body")"
}
# call METHOD URL [JSON] CODE...: req + expect; prints nothing.
call() {
  local method=$1 url=$2 data=""
  shift 2
  if [ $# -gt 0 ] && [ "${1:0:1}" = "{" ]; then data=$1; shift; fi
  LAST="$method ${url#http://127.0.0.1:}"
  req "$method" "$url" "$data"
  expect "$@"
}
body() { jq -r "$@" "$TMP/body"; }

# Things to delete, newest first, whatever happens.
CLEANUP=()
cleanup() {
  local i
  for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do
    eval "${CLEANUP[$i]}" || true
  done
  CLEANUP=()
}

# wait_status URL JQ WANT BAD: polls URL until JQ gives WANT; fails on BAD.
wait_status() {
  local url=$1 q=$2 want=$3 bad=$4 t0 s
  t0=$(date +%s)
  while :; do
    call GET "$url" 200
    s=$(body "$q")
    [ "$s" = "$want" ] && return 0
    [[ "$s" =~ ^($bad)$ ]] && fail "GET ${url#http://127.0.0.1:}: status $s: $(head -c 600 "$TMP/body")"
    [ $(($(date +%s) - t0)) -lt "$WAIT" ] || fail "GET ${url#http://127.0.0.1:}: still $s after ${WAIT}s"
    sleep 0.3
  done
}

check_cloud() {
  CLOUD=$1
  local C=CLOUD_${1^^} t0 t
  local auth=${C}_AUTH_URL image=${C}_IMAGE_ID priv=${C}_PRIVATE_NET_ID ext=${C}_EXT_NET_ID
  auth=${!auth} image=${!image} priv=${!priv} ext=${!ext}
  local name=clouds-check-$$
  t0=$(now)

  # Token and catalog.
  local hdr=$TMP/headers
  STATUS=$(curl -s -D "$hdr" -o "$TMP/body" -w '%{http_code}' -X POST "$auth/auth/tokens" \
    -H 'Content-Type: application/json' -d "$(jq -n --arg u "$CLOUDS_USERNAME" \
      --arg p "$CLOUDS_PASSWORD" --arg pr "$CLOUDS_PROJECT" '{auth: {
        identity: {methods: ["password"], password: {user: {name: $u,
          domain: {name: "Default"}, password: $p}}},
        scope: {project: {name: $pr, domain: {name: "Default"}}}}}')")
  LAST="POST /v3/auth/tokens"
  expect 201
  TOKEN=$(awk -F': ' 'tolower($1) == "x-subject-token" { print $2 }' "$hdr" | tr -d '\r')
  local project nova glance neutron
  project=$(body .token.project.id)
  endpoint() { body --arg t "$1" '.token.catalog[] | select(.type == $t)
    | .endpoints[] | select(.interface == "public") | .url' | head -n1; }
  nova=$(endpoint compute) glance=$(endpoint image) neutron=$(endpoint network)
  [ -n "$nova" ] && [ -n "$glance" ] && [ -n "$neutron" ] \
    || fail "catalog lacks compute/image/network endpoints"
  say "token for $CLOUDS_USERNAME/$CLOUDS_PROJECT; compute $nova, image $glance, network $neutron"

  # Boot a server from the image, m1.tiny, on the private network.
  call GET "$nova/flavors" 200
  local flavor
  flavor=$(body '.flavors[] | select(.name == "m1.tiny") | .id')
  [ -n "$flavor" ] || fail "no flavor m1.tiny"
  t=$(now)
  call POST "$nova/servers" "$(jq -n --arg n "$name" --arg i "$image" --arg f "$flavor" \
    --arg net "$priv" '{server: {name: $n, imageRef: $i, flavorRef: $f,
      networks: [{uuid: $net}]}}')" 202
  local server
  server=$(body .server.id)
  CLEANUP+=("delete_server $nova $server")
  wait_status "$nova/servers/$server" .server.status ACTIVE 'ERROR|DELETED'
  say "server $server ACTIVE in $(since "$t") s"

  # Its port on the private network.
  call GET "$neutron/v2.0/ports?device_id=$server" 200
  local port ip
  port=$(body '.ports[0].id // empty')
  ip=$(body '.ports[0].fixed_ips[0].ip_address // empty')
  [ -n "$port" ] && [ -n "$ip" ] || fail "server has no port with an address"
  [ "$(body '.ports[0].network_id')" = "$priv" ] || fail "port is not on the private network"
  say "port $port, fixed IP $ip, status $(body '.ports[0].status')"

  # Snapshot: an ACTIVE image with the base image's bytes.
  t=$(now)
  call POST "$nova/servers/$server/action" "{\"createImage\": {\"name\": \"$name-snap\"}}" 202
  local snap
  snap=$(body .image_id)
  [ -n "$snap" ] && [ "$snap" != null ] || fail "createImage gave no image_id"
  CLEANUP+=("req DELETE $glance/v2/images/$snap")
  wait_status "$glance/v2/images/$snap" .status active 'killed|deleted|deactivated'
  local snap_meta base_meta
  snap_meta=$(body '[.size, .checksum, .os_hash_value] | @tsv')
  call GET "$glance/v2/images/$image" 200
  base_meta=$(body '[.size, .checksum, .os_hash_value] | @tsv')
  [ "$snap_meta" = "$base_meta" ] \
    || fail "snapshot (size, md5, sha512) $snap_meta != base image $base_meta"
  local a b
  a=$(curl -sf -H "X-Auth-Token: $TOKEN" "$glance/v2/images/$image/file" | sha256sum)
  b=$(curl -sf -H "X-Auth-Token: $TOKEN" "$glance/v2/images/$snap/file" | sha256sum)
  [ "$a" = "$b" ] || fail "snapshot bytes differ from the base image's"
  say "snapshot $snap active in $(since "$t") s, $(cut -f1 <<<"$snap_meta") bytes identical to the base image"
  # The server goes back to no task state once the snapshot is done.
  wait_status "$nova/servers/$server" '.server["OS-EXT-STS:task_state"] // "none"' none 'x'

  # Floating IP on the external network, associated with the port.
  call POST "$neutron/v2.0/floatingips" "$(jq -n --arg e "$ext" --arg p "$port" \
    '{floatingip: {floating_network_id: $e, port_id: $p}}')" 201
  local fip fip_addr
  fip=$(body .floatingip.id)
  fip_addr=$(body .floatingip.floating_ip_address)
  CLEANUP+=("req DELETE $neutron/v2.0/floatingips/$fip")
  [ "$(body .floatingip.fixed_ip_address)" = "$ip" ] || fail "floating IP not on $ip"
  call GET "$neutron/v2.0/floatingips/$fip" 200
  [ "$(body .floatingip.port_id)" = "$port" ] || fail "floating IP not associated"
  say "floating IP $fip_addr -> $ip"

  # Usage of the project: lists the server.
  local start end
  start=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%S)
  end=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%S)
  call GET "$nova/os-simple-tenant-usage/$project?start=$start&end=$end" 200
  [ "$(body --arg s "$server" '[.tenant_usage.server_usages[]? | select(.instance_id == $s)] | length')" = 1 ] \
    || fail "os-simple-tenant-usage does not list the server"
  say "os-simple-tenant-usage: $(body '.tenant_usage.total_vcpus_usage') vCPU hours"

  # Keypair import.
  call POST "$nova/os-keypairs" "$(jq -n --arg n "$name" --arg k "$PUBKEY" \
    '{keypair: {name: $n, public_key: $k}}')" 200 201
  CLEANUP+=("req DELETE $nova/os-keypairs/$name")
  say "keypair $name, fingerprint $(body .keypair.fingerprint)"

  # Security group with a rule, added to the server.
  call POST "$neutron/v2.0/security-groups" "{\"security_group\": {\"name\": \"$name\", \"description\": \"clouds check\"}}" 201
  local sg
  sg=$(body .security_group.id)
  # First in the list, so deleted last: the server's port uses it.
  CLEANUP=("req DELETE $neutron/v2.0/security-groups/$sg" "${CLEANUP[@]}")
  call POST "$neutron/v2.0/security-group-rules" "$(jq -n --arg g "$sg" \
    '{security_group_rule: {security_group_id: $g, direction: "ingress",
      ethertype: "IPv4", protocol: "tcp", port_range_min: 22,
      port_range_max: 22, remote_ip_prefix: "0.0.0.0/0"}}')" 201
  call POST "$nova/servers/$server/action" "{\"addSecurityGroup\": {\"name\": \"$name\"}}" 202
  call GET "$neutron/v2.0/ports/$port" 200
  [ "$(body --arg g "$sg" '[.port.security_groups[] | select(. == $g)] | length')" = 1 ] \
    || fail "security group not on the server's port"
  say "security group $sg (tcp/22) on the server's port"

  # Delete everything, newest first, and check the server is gone.
  cleanup
  call GET "$nova/servers/$server" 404
  say "cleaned up; passed in $(since "$t0") s"
}

# delete_server NOVA ID: DELETE, then wait until the server is gone.
delete_server() {
  local t0
  req DELETE "$1/servers/$2"
  t0=$(date +%s)
  while [ $(($(date +%s) - t0)) -lt "$WAIT" ]; do
    req GET "$1/servers/$2"
    [ "$STATUS" = 404 ] && return 0
    sleep 0.3
  done
  echo "check $CLOUD: server $2 not deleted after ${WAIT}s" >&2
  return 1
}

T0=$(now)
passed=0 failed=0
for c in $CLOUDS_NAMES; do
  # A subshell per cloud, outside any condition so that set -e holds in it.
  set +e
  (
    set -e
    trap cleanup EXIT
    check_cloud "$c"
  )
  rc=$?
  set -e
  if [ $rc -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "check: clouds $CLOUDS_NAMES checked in $(since "$T0") s"
echo "check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
