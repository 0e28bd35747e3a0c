#!/usr/bin/env bash
# Storage precision: float32 X is kept as float32 in memory and widened row
# by row, so a float32 file and the same values stored as float64 must give
# a byte-identical /network, /construction and /verification - once at zero
# loss and once in best-effort mode (where moved points live in a widened
# copy).  2 ranks, block_rows = 64.
#
#   precision.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
# (VAR=VALUE arguments or environment variables).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args precision "$@"

# SRC.h5 (float32 X) -> DST.h5: the same values as float64, same y.
widen() {
    "$PYTHON" - "$1" "$2" <<'EOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as s, h5py.File(sys.argv[2], "w") as d:
    assert s["X"].dtype == np.float32
    d["X"] = s["X"][...].astype(np.float64)
    d["y"] = s["y"][...]
EOF
}

# run TAG DATA EXPECT [TOML lines]: one 2-rank run that must exit EXPECT
run() {
    local tag=$1 data=$2 expect=$3 extra=${4:-}
    local cfg="$WORK/$tag.toml"
    printf '[data]\npath = "%s"\n[output]\npath = "net_%s.h5"\n[parallel]\nblock_rows = 64\n%b\n' \
        "$data" "$tag" "$extra" > "$cfg"
    echo "precision: $tag"
    set +e
    "${mpiexec_cmd[@]}" --oversubscribe -n 2 "$BIN" "$cfg" \
        > "$WORK/$tag.out" 2> "$WORK/$tag.err"
    local rc=$?
    set -e
    if [ "$rc" -ne "$expect" ]; then
        echo "precision: FAIL: run $tag exited $rc, expected $expect"
        cat "$WORK/$tag.out" "$WORK/$tag.err"
        exit 1
    fi
}

same() {
    "$PYTHON" "$here/compare_networks.py" --group /network --group /construction \
        --group /verification --all-attrs "$WORK/net_$1.h5" "$WORK/net_$2.h5"
}

"$PYTHON" "$here/gen_data.py" "$WORK/sep32.h5" --kind clusters --q 5 --m 7 \
    --n 3001 --seed 31 --dtype float32
widen "$WORK/sep32.h5" "$WORK/sep64.h5"
run sep32 sep32.h5 0
run sep64 sep64.h5 0
same sep32 sep64
"$PYTHON" "$here/check_network.py" "$WORK/net_sep32.h5" "$WORK/sep32.h5"

"$PYTHON" "$here/gen_data.py" "$WORK/ovl32.h5" --kind overlap --m 3 \
    --n 600 --seed 21 --dtype float32
widen "$WORK/ovl32.h5" "$WORK/ovl64.h5"
best='[construction]\non_inseparable = "best_effort"'
run ovl32 ovl32.h5 3 "$best"
run ovl64 ovl64.h5 3 "$best"
same ovl32 ovl64
echo "precision: PASS (float32 and float64 storage give identical results)"
