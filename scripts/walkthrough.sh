#!/usr/bin/env bash
# The README's "A walk through by hand", run as written on loopback in a temp
# dir, failing on any error; at the end "Say hello" must have succeeded.
#
# The commands are the README's, in its order, with what the README itself
# says to change off a Mac:
#   - the agent runs without sudo, with a state directory of its own
#     (MAW_STATE_DIR, the environment form of --state-dir);
#   - the server listens on a free port (127.0.0.1:0) instead of 8443, and
#     the agent is pointed at the port it got;
#   - the server's output goes to serve.log, and the script waits until it
#     listens.
# `make build` runs unless BIN names a directory holding the binaries.
# The e2e tests run this script and check that it follows the README.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d -t mobileatwork-walkthrough.XXXXXX)
srv_pid=""
cleanup() {
  code=$?
  if [ -n "$srv_pid" ]; then kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null; fi
  if [ "$code" -ne 0 ] && [ -f "$work/serve.log" ]; then
    echo "--- serve.log" >&2
    cat "$work/serve.log" >&2
  fi
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT
trap 'echo "walkthrough: line $LINENO failed: $BASH_COMMAND" >&2' ERR

if [ -z "${BIN:-}" ]; then
  (cd "$repo" && make build)
  BIN=$repo/bin
fi
BIN=$(cd "$BIN" && pwd)
cd "$work"
ln -s "$BIN" bin
export MAW_STATE_DIR=$work/maw-state

bin/mobileatwork-server init --data ./maw-data
bin/mobileatwork-server serve --data ./maw-data --listen 127.0.0.1:0 2>serve.log &
srv_pid=$!
PORT=""
for _ in $(seq 1 200); do
  PORT=$(sed -n 's|.*serving the device API on https://127\.0\.0\.1:\([0-9][0-9]*\).*|\1|p' serve.log)
  [ -n "$PORT" ] && break
  kill -0 "$srv_pid" 2>/dev/null || break
  sleep 0.05
done
[ -n "$PORT" ] || { echo "walkthrough: the server did not start" >&2; exit 1; }

TOKEN=$(bin/mobileatwork-server token create --data ./maw-data --user ada@example.com | tail -1)
DEVICE=$(printf '%s' "$TOKEN" | bin/mobileatwork enroll --server https://127.0.0.1:$PORT --token-file - | tail -1)

# the default Mobile@Work configuration reaches no one until it is distributed
bin/mobileatwork-server config distribute default --data ./maw-data --to all --dry-run
bin/mobileatwork-server config distribute default --data ./maw-data --to all

printf '#!/bin/sh\necho "hello $1 on $MAW_INPUT_SERIAL"\n' > hello.sh
bin/mobileatwork-server script add --data ./maw-data --name hello --file hello.sh \
        --input 'Who:who=world' --input 'Serial:serial={$deviceSerialNumber}'
CFG=$(bin/mobileatwork-server config add script --data ./maw-data --name "Say hello" \
        --script hello --input 'who={$userWorkEmailAddress}' | tail -1)
bin/mobileatwork-server config distribute "$CFG" --data ./maw-data --to all

bin/mobileatwork-server user-group add lab-users --data ./maw-data --member ada@example.com
bin/mobileatwork-server groups "$DEVICE" lab --data ./maw-data
bin/mobileatwork-server config add script --data ./maw-data --name "Weekly report" --script hello \
        --weekly 18:30 --days mon,fri --tz local --start 2027-01-01 --end 2027-12-31
bin/mobileatwork-server config distribute "Weekly report" --data ./maw-data --to usergroup:lab-users,group:lab

bin/mobileatwork checkin        # one cycle in the foreground (the daemon, when it runs, holds the state lock)
bin/mobileatwork status         # enrollment, configuration in effect, last check-in, queue, next runs
bin/mobileatwork-server configs --data ./maw-data
bin/mobileatwork-server config show "Say hello" --data ./maw-data      # status on every device reached
bin/mobileatwork-server device show "$DEVICE" --data ./maw-data        # the device's page
bin/mobileatwork-server results --data ./maw-data --config "Say hello" --since 24h

printf '#!/bin/sh\necho "hello again, $1"\n' > hello-v2.sh
bin/mobileatwork-server script set hello --data ./maw-data --file hello-v2.sh   # new version, delivered
bin/mobileatwork-server config distribute "Weekly report" --data ./maw-data --to none   # withdrawn

bin/mobileatwork schedule preview --weekly 02:30 --days sun --tz local \
        --from 2027-03-20T00:00:00Z --count 3     # honours TZ=Europe/Paris etc.

# "Say hello" ran on the device, and the server is still up.
bin/mobileatwork-server results --data ./maw-data --config "Say hello" --json >results.json
grep -q '"status": *"succeeded"' results.json || {
  echo 'walkthrough: no succeeded result of "Say hello"' >&2
  cat results.json >&2
  exit 1
}
kill -0 "$srv_pid" || { echo "walkthrough: the server stopped" >&2; exit 1; }
echo 'walkthrough: done; "Say hello" succeeded'
