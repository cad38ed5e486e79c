#!/usr/bin/env bash
# The whole path on one machine: a tenant server on loopback, an enrolled
# agent, a signed and encrypted script with an input, its verified run and
# the result on the server. Everything lives in a temp dir, removed at exit.
set -euo pipefail
bin=${BIN:-bin}
work=$(mktemp -d -t mobileatwork-demo.XXXXXX)
srv_pid=""; ui_pid=""; agent_pid=""; reg_pid=""
cleanup() {
  for p in $reg_pid $agent_pid $ui_pid $srv_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
S="$bin/mobileatwork-server"; A="$bin/mobileatwork"
data=$work/data; state=$work/state

step() { printf '\n== %s\n' "$*"; }

step "create a tenant (CA, signing certificate, TLS certificate, database)"
"$S" init --data "$data"
# Beside the device API, the public enrollment listener serves download
# links; it builds each link's package from the thin darwin agents.
"$S" serve --data "$data" --listen 127.0.0.1:0 --addr-file "$work/addr" \
  --enroll-listen 127.0.0.1:0 --enroll-addr-file "$work/enroll-addr" --agent-dir "${AGENT_DIR:-dist/darwin}" \
  --admin-listen 127.0.0.1:0 --admin-addr-file "$work/admin-addr" >"$work/serve.log" 2>&1 &
srv_pid=$!
for _ in $(seq 1 100); do [ -s "$work/addr" ] && [ -s "$work/enroll-addr" ] && [ -s "$work/admin-addr" ] && break; sleep 0.05; done
[ -s "$work/addr" ] && [ -s "$work/enroll-addr" ] && [ -s "$work/admin-addr" ] || { cat "$work/serve.log"; echo "server did not start" >&2; exit 1; }
url="https://$(cat "$work/addr")"
echo "serving on $url"

step "enroll an agent with a one-time token (the token pins the tenant CA)"
token=$("$S" token create --data "$data" --user ada@example.com | tail -1)
printf '%s' "$token" | "$A" enroll --state-dir "$state" --server "$url" --token-file -

step "add a script to the repository and a script configuration that uses it, for everyone"
cat >"$work/hello.sh" <<'SH'
#!/bin/sh
echo "Hello, $1, from $(uname -s) as uid $(id -u)"
echo "serial input: $MAW_INPUT_SERIAL"
SH
"$S" script add --data "$data" --name hello --description "Greets the user" --file "$work/hello.sh" \
  --input "Who:who=world" --input "Serial:serial={\$deviceSerialNumber}" >/dev/null
cfg=$("$S" config add script --data "$data" --name "Say hello" --description "First script of the demo" \
  --script hello --input 'who={$userWorkEmailAddress}' | tail -1)
"$S" config distribute "Say hello" --data "$data" --to all
device=$("$A" status --state-dir "$state" --json | sed -n 's/.*"device_id": *"\([^"]*\)".*/\1/p')

step "check in: the default Mobile@Work configuration reaches no one yet, so nothing runs"
"$A" checkin --state-dir "$state"
"$S" configs --data "$data"
"$S" config show "Say hello" --data "$data"

step "distribute the default Mobile@Work configuration to everyone (--dry-run first)"
"$S" config distribute default --data "$data" --to all --dry-run
"$S" config distribute default --data "$data" --to all

step "check in: fetch, verify, decrypt, run, report"
"$A" checkin --state-dir "$state"

step "agent status"
"$A" status --state-dir "$state"

step "results on the server, and the configuration's status per device"
"$S" results --data "$data"
"$S" config show "$cfg" --data "$data"

step "the device's page"
"$S" device show "$device" --data "$data"

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
"$S" onboarding --data "$data" --device "$device"

step "run now: the agent daemon holds the wake channel; the server asks it to check in, and the result prints"
"$A" run --state-dir "$state" --log-file "$work/agent.log" >/dev/null 2>&1 &
agent_pid=$!
echo "(the daemon checks in every 15 minutes, the tenant's interval; \`run\` wakes it)"
"$S" run --data "$data" --script hello --device "$device" --input who=run-now --wait 30s

# fetch URL [CURL ARGS...] fetches with the tenant CA pinned; the URL,
# which carries a secret, goes to curl on stdin, not in its argv.
fetch() { local u=$1; shift; printf 'url = "%s"\n' "$u" | curl -sS --cacert "$data/pki/ca.crt" -K - "$@"; }

step "getting the agent onto Macs: a one-time download link on the public enrollment listener"
"$S" tenant set --data "$data" "server_url=$url" "enroll_url=https://$(cat "$work/enroll-addr")"
link=$("$S" link create --data "$data" --user ada@example.com | tail -1)
echo "download link (send it by e-mail): $link"
echo "the page says:"
fetch "$link" | sed -e 's/<[^>]*>//g' -e 's/^[[:space:]]*//' | grep -E 'Mobile@Work|Download|SHA-256' | head -4 | sed 's/^/  /'
code=$(fetch "$link/MobileAtWork.pkg" -o "$work/MobileAtWork-ada.pkg" -w '%{http_code}')
echo "first download: HTTP $code, $(wc -c <"$work/MobileAtWork-ada.pkg") bytes, sha256 $(sha256sum "$work/MobileAtWork-ada.pkg" | cut -c1-64)"
echo "second download: HTTP $(fetch "$link/MobileAtWork.pkg" -o /dev/null -w '%{http_code}') (the link was for one download)"
"$S" link list --data "$data"

step "registration from the Mac: the \"Register this Mac\" page on loopback (what the UI agent opens after the generic package)"
"$A" register ui --state-dir "$work/mac2" >"$work/reg" 2>"$work/reg.log" &
reg_pid=$!
for _ in $(seq 1 100); do [ -s "$work/reg" ] && break; sleep 0.05; done
page=$(head -1 "$work/reg"); origin=$(printf '%s' "$page" | sed -E 's#^(http://[^/]+)/.*#\1#')
echo "page (loopback, per-run secret): $page"
printf 'url = "%s"\n' "$page" | curl -sS -L -c "$work/jar" -b "$work/jar" -K - >"$work/reg.html"
form=$(sed -n 's/.*name="form_token" value="\([^"]*\)".*/\1/p' "$work/reg.html")
token2=$("$S" token create --data "$data" --user bob@example.com | tail -1)
echo "the user pastes a token from \`token create\` and submits; the page answers:"
answer=$(printf '%s' "$token2" | curl -sS -b "$work/jar" -H "Origin: $origin" --data-urlencode "form_token=$form" \
  --data-urlencode "server=$url" --data-urlencode "token@-" "$origin/register")
echo "  $answer"
case $answer in *'"registered":true'*) ;; *) echo "registration failed" >&2; exit 1 ;; esac
wait "$reg_pid"; reg_pid=""
tail -1 "$work/reg"
"$S" devices --data "$data"

step "the web console and the admin API (a listener of their own, TLS with the tenant's certificate)"
password=$("$S" admin add admin --role admin --data "$data" 2>/dev/null | tail -1)
console="https://$(cat "$work/admin-addr")/"
echo "console: $console"
echo "sign in as admin with the one-time password: $password"
echo "(the browser must trust the tenant CA, $data/pki/ca.crt, for this address)"
"$S" admin token create demo-operator --role operator --ttl 1d --data "$data" 2>/dev/null | tail -1 >"$work/api-token"
echo "the same commands, remote: an operator's API token (in the environment, never in argv) and the tenant CA to trust"
MAW_API_TOKEN=$(cat "$work/api-token") "$S" configs --server "https://$(cat "$work/admin-addr")" --ca "$data/pki/ca.crt"
echo "an operator may not add an administrator:"
MAW_API_TOKEN=$(cat "$work/api-token") "$S" admin add eve --role admin --server "https://$(cat "$work/admin-addr")" --ca "$data/pki/ca.crt" || true
echo "the audit log, newest first:"
"$S" audit --limit 6 --data "$data"

if [ -n "${KEEP:-}" ]; then
  step "server, agent daemon and Apps@Work page stay up: open the URL above; Ctrl-C to stop"
  wait "$ui_pid"
fi
