#!/usr/bin/env bash
# Checks the model of the pool core's store-buffering handshake
# (tests/model/handshake.pml) with Spin: the protocol as built must verify
# (no assertion violated, no waiter left asleep), and two broken variants
# must not (weaker memory orders; a releaser that never looks), so that the
# check is seen to be able to fail.
#
# Usage: tests/model/check.sh   (needs spin and a C compiler; scripts/deps.sh
# installs spin with the test set)
set -euo pipefail

model="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/handshake.pml"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

status=0
# check NAME WANT [SPIN FLAGS...]: WANT is "verified" or "violated".
check() {
    local name=$1 want=$2
    shift 2
    spin "$@" -a "$model" >/dev/null
    cc -O2 -w -o pan pan.c
    local out errors got
    out="$(./pan 2>&1 || true)"
    errors="$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' <<<"$out" | head -n 1)"
    if [[ -z "$errors" ]]; then
        echo "[model] $name: Spin gave no verdict:" >&2
        echo "$out" >&2
        status=1
        return
    fi
    got=verified
    ((errors == 0)) || got=violated
    local states
    states="$(sed -n 's/^ *\([0-9][0-9]*\) states, stored.*/\1/p' <<<"$out" | head -n 1)"
    if [[ "$got" == "$want" ]]; then
        echo "[model] $name: $got as expected ($states states)"
    else
        echo "[model] $name: $got, expected $want:" >&2
        echo "$out" >&2
        status=1
    fi
}

check "the handshake as built (sequentially consistent accesses)" verified
check "weaker orders (a store may pass its side's load)" violated -DFENCE=0
check "a releaser that never looks at the other side" violated -DNO_HANDOFF
exit "$status"
