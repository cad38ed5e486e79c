#!/usr/bin/env bash
# The server at fleet scale: simulated agents against a local server
# process (docs/scaling.md). The devices and their tenant are kept in
# MAWLOAD_STATE, so only the first run pays for enrolling them. Figures
# depend on what else runs on the machine: the report prints its load
# average beside them.
set -euo pipefail
export CGO_ENABLED=0
go=${GO:-go}
bin=${BIN:-bin}
state=${MAWLOAD_STATE:-${XDG_CACHE_HOME:-$HOME/.cache}/mawload}
devices=${DEVICES:-2000}
duration=${DURATION:-30s}

$go build -trimpath -o "$bin/" ./cmd/mawload ./cmd/mobileatwork-server
"$bin/mawload" run --local --state "$state" --devices "$devices" --duration "$duration" --progress 10s "$@"
