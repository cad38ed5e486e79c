#!/usr/bin/env bash
# The whole path on one machine: a tenant server on loopback, an enrolled
# agent, a signed and encrypted script with an input, its verified run and
# the result on the server. Everything lives in a temp dir, removed at exit.
set -euo pipefail
bin=${BIN:-bin}
work=$(mktemp -d -t mobileatwork-demo.XXXXXX)
srv_pid=""
cleanup() { [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
S="$bin/mobileatwork-server"; A="$bin/mobileatwork"
data=$work/data; state=$work/state

step() { printf '\n== %s\n' "$*"; }

step "create a tenant (CA, signing certificate, TLS certificate, database)"
"$S" init --data "$data"
"$S" serve --data "$data" --listen 127.0.0.1:0 --addr-file "$work/addr" >"$work/serve.log" 2>&1 &
srv_pid=$!
for _ in $(seq 1 100); do [ -s "$work/addr" ] && break; sleep 0.05; done
[ -s "$work/addr" ] || { cat "$work/serve.log"; echo "server did not start" >&2; exit 1; }
url="https://$(cat "$work/addr")"
echo "serving on $url"

step "enroll an agent with a one-time token (the token pins the tenant CA)"
token=$("$S" token create --data "$data" --user ada@example.com | tail -1)
"$A" enroll --state-dir "$state" --server "$url" --token "$token"

step "store a script with an input, assign it to every device"
cat >"$work/hello.sh" <<'SH'
#!/bin/sh
echo "Hello, $1, from $(uname -s) as uid $(id -u)"
echo "serial input: $MAW_INPUT_SERIAL"
SH
sid=$("$S" script add --data "$data" --name hello --file "$work/hello.sh" \
  --input "Who:who=world" --input "Serial:serial={\$deviceSerialNumber}" | tail -1)
"$S" assign --data "$data" --script "$sid" --to all --input 'who={$userWorkEmailAddress}' >/dev/null

step "check in: fetch, verify, decrypt, run, report"
"$A" checkin --state-dir "$state"

step "agent status"
"$A" status --state-dir "$state"

step "results on the server"
"$S" results --data "$data"
