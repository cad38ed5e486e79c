#!/usr/bin/env bash
# The whole path on one machine: a tenant server on loopback, an enrolled
# agent, a signed and encrypted script with an input, its verified run and
# the result on the server. Everything lives in a temp dir, removed at exit.
set -euo pipefail
bin=${BIN:-bin}
work=$(mktemp -d -t mobileatwork-demo.XXXXXX)
srv_pid=""; ui_pid=""
cleanup() {
  for p in $ui_pid $srv_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
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

step "Apps@Work: a catalog app with details, distributed to every device"
app=$("$S" app add --data "$data" --name "Team Tools" --kind appsandbooks --bundle-id com.example.teamtools 2>/dev/null | tail -1)
"$S" app set "$app" --data "$data" --publisher "Example Corp" --category Productivity \
  --short-description "Shared tools for the team" --description "Everything the team shares, in one place." >/dev/null 2>&1
"$S" app review add --data "$data" --app "$app" --author "Ada" --rating 5 --text "Works well." >/dev/null 2>&1
"$S" app distribute --data "$data" --app "$app" --to all >/dev/null 2>&1
"$S" config set --data "$data" onboarding.enabled=true onboarding.setup_timeout_seconds=10 \
  onboarding.landing_url=https://intranet.example.com/welcome >/dev/null
"$S" profile add --data "$data" --name Wi-Fi --identifier com.example.wifi >/dev/null
"$A" checkin --state-dir "$state" 2>/dev/null
mkdir -p "$work/root"   # the catalog reads (and the Linux installer twin writes) here
"$A" catalog list --state-dir "$state" --root "$work/root"
"$A" catalog ui --state-dir "$state" --root "$work/root" >"$work/ui" 2>"$work/ui.log" &
ui_pid=$!
for _ in $(seq 1 100); do [ -s "$work/ui" ] && break; sleep 0.05; done
echo "Apps@Work page (loopback, per-run secret): $(head -1 "$work/ui")"

step "onboarding: the plan rides in the signed check-in; progress on the device and on the server"
"$A" onboarding status --state-dir "$state"
echo "(nothing installs the Wi-Fi profile here: the 10 s setup timeout ends onboarding)"
sleep 11
"$A" checkin --state-dir "$state" 2>/dev/null
"$A" onboarding status --state-dir "$state"
device=$("$A" status --state-dir "$state" --json | sed -n 's/.*"device_id": *"\([^"]*\)".*/\1/p')
"$S" onboarding --data "$data" --device "$device"

if [ -n "${KEEP:-}" ]; then
  step "server and Apps@Work page stay up: open the URL above; Ctrl-C to stop"
  wait "$ui_pid"
fi
