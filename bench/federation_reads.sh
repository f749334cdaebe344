#!/usr/bin/env bash
# GET details and history through the gateway (issue 4) beside nginx serving
# the same response bytes as static files, in the same run: `catena up`
# registers one VC, its two answers are saved, and wrk loads each URL.
#   bench/federation_reads.sh     prints one JSON line per measurement
# Environment: CATENA_BIN (default build/catena), WRK_DURATION (10s),
# WRK_CONNECTIONS (64), WRK_THREADS (2), WRK_ROUNDS (1: rounds alternate
# gateway and nginx; the ratio lines take the median of each), and
# CATENA_KEEP_TMP=1 keeps the logs.
# Needs wrk and nginx (Debian: wrk, nginx-light; scripts/bench installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

catena=${CATENA_BIN:-build/catena}
duration=${WRK_DURATION:-10s}
conns=${WRK_CONNECTIONS:-64}
threads=${WRK_THREADS:-2}
rounds=${WRK_ROUNDS:-1}
for tool in wrk nginx node curl; do
  command -v "$tool" >/dev/null || { echo "federation_reads: $tool is not installed" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/catena-readbench-XXXXXX)
up_pid=
nginx_pid=

# Stops a process group we started: SIGTERM, up to 20 s, then SIGKILL.
stop_group() {
  local pid=$1
  kill -TERM -- "-$pid" 2>/dev/null || return 0
  for _ in $(seq 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  [ -n "$nginx_pid" ] && stop_group "$nginx_pid"
  [ -n "$up_pid" ] && stop_group "$up_pid"
  # Kept on failure (not on an interrupt) for its logs.
  if [ -n "${CATENA_KEEP_TMP:-}" ] || { [ $rc -ne 0 ] && [ $rc -ne 130 ]; }; then
    echo "federation_reads: logs in $tmp" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

json_field() { node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{const v=process.argv[1].split(".").reduce((o,k)=>o?.[k],JSON.parse(t));if(v===undefined)process.exit(1);console.log(v)})' "$1"; }

# ---- the federation: catena up in its own process group (setsid)
setsid "$catena" up --dir "$tmp/up" --rpc-port 0 --api-port 0 >"$tmp/up.log" 2>&1 &
up_pid=$!
for _ in $(seq 1200); do
  [ -s "$tmp/up/federation.json" ] && break
  kill -0 "$up_pid" 2>/dev/null || { echo "federation_reads: catena up failed, see $tmp/up.log" >&2; exit 1; }
  sleep 0.1
done
fed=$(cat "$tmp/up/federation.json")
api=$(json_field api_url <<<"$fed")
token=$(json_field datacenters.0.token <<<"$fed")

# ---- one VC (the seed's Listing 5), its details and history
body='{"vc_type":"openstack:vm","available":true,"vcpu":1,"vram":1024,"vdisk":10,
"id":"b55f090c-67f0-4691-a736-104ebe82c2e9","ip_address":"http://10.0.9.39",
"controller":"http://10.0.9.2","created":"2018-09-11T14:46:23.470Z"}'
tx=$(curl -sf -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d "$body" "$api/datacenter/DC1/container/register/" | json_field tx_hash)
tag=
for _ in $(seq 100); do
  tag=$(curl -sf "$api/transaction/$tx/vctag/" | json_field vc_tag) && break
  sleep 0.1
done
[ -n "$tag" ] || { echo "federation_reads: the gateway never saw $tx" >&2; exit 1; }
mkdir -p "$tmp/www"
details_url="$api/container/$tag/details/"
history_url="$api/container/$tag/history/"
curl -sf -o "$tmp/www/details.json" "$details_url"
curl -sf -o "$tmp/www/history.json" "$history_url"
chmod 755 "$tmp" "$tmp/www"
chmod 644 "$tmp/www/details.json" "$tmp/www/history.json"

# ---- nginx on a free loopback port, its own config, in its own process group
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
cat >"$tmp/nginx.conf" <<EOF
worker_processes auto;
daemon off;
master_process on;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  default_type application/json;
  server {
    listen 127.0.0.1:$port;
    root $tmp/www;
    location / { }
  }
}
EOF
setsid nginx -p "$tmp" -c "$tmp/nginx.conf" -e "$tmp/nginx-error.log" >"$tmp/nginx.log" 2>&1 &
nginx_pid=$!
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/details.json" && break
  kill -0 "$nginx_pid" 2>/dev/null || { echo "federation_reads: nginx failed, see $tmp/nginx-error.log" >&2; exit 1; }
  sleep 0.1
done
for f in details history; do
  url_var=${f}_url
  cmp -s "$tmp/www/$f.json" <(curl -sf "${!url_var}") ||
    { echo "federation_reads: the gateway's $f answer changed" >&2; exit 1; }
  cmp -s "$tmp/www/$f.json" <(curl -sf "http://127.0.0.1:$port/$f.json") ||
    { echo "federation_reads: nginx does not serve the same $f bytes" >&2; exit 1; }
done

# ---- wrk: gateway then nginx, for each answer
# Prints {"op":..., "bytes":..., "req_per_s":..., "p50_ms":..., "p99_ms":...}.
measure() {
  local op=$1 url=$2 bytes=$3 out
  out=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency "$url")
  echo "$out" >"$tmp/wrk-$op.txt"
  if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
    echo "federation_reads: $op had errors:" >&2
    echo "$out" >&2
    exit 1
  fi
  node -e '
    const t = process.argv[1];
    const ms = (s) => { const m = /([\d.]+)(us|ms|s)/.exec(s);
      return +m[1] * ({us: 0.001, ms: 1, s: 1000})[m[2]]; };
    const lat = (p) => ms(new RegExp("^\\s*" + p + "%\\s+(\\S+)", "m").exec(t)[1]);
    console.log(JSON.stringify({op: process.argv[2], connections: +process.argv[4],
      bytes: +process.argv[3], req_per_s: +/Requests\/sec:\s+([\d.]+)/.exec(t)[1],
      p50_ms: lat("50"), p99_ms: lat("99")}));
  ' "$out" "$op" "$bytes" "$conns"
}
results=$(
  for round in $(seq "$rounds"); do
    for f in details history; do
      url_var=${f}_url
      bytes=$(stat -c %s "$tmp/www/$f.json")
      measure "gateway_$f" "${!url_var}" "$bytes"
      measure "nginx_$f" "http://127.0.0.1:$port/$f.json" "$bytes"
    done
  done
)
echo "$results"
node -e '
  const rows = process.argv[1].trim().split("\n").map((l) => JSON.parse(l));
  const median = (v) => { v = [...v].sort((a, b) => a - b); return v[(v.length - 1) >> 1]; };
  const of = (op, k) => median(rows.filter((x) => x.op === op).map((x) => x[k]));
  for (const f of ["details", "history"]) {
    const g = "gateway_" + f, n = "nginx_" + f;
    console.log(JSON.stringify({op: "ratio_" + f, rounds: rows.filter((x) => x.op === g).length,
      gateway_req_per_s: of(g, "req_per_s"), nginx_req_per_s: of(n, "req_per_s"),
      gateway_vs_nginx: +(of(g, "req_per_s") / of(n, "req_per_s")).toFixed(2),
      gateway_p99_ms: of(g, "p99_ms"), nginx_p99_ms: of(n, "p99_ms")}));
  }
' "$results"
