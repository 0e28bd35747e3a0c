#!/usr/bin/env bash
# Inputs as found in practice, at 3 ranks with block_rows 16:
#  - X and y chunked and gzip-compressed (float64 and float32) give the
#    /network and /construction bytes of the same data stored contiguous;
#  - a rank's rows read in many pieces (TD_READ_PIECE_BYTES=200, as 1 GiB
#    pieces split a shard over 2 GiB; ranks with fewer pieces still join
#    every collective read) give the same bytes again;
#  - a shard that will not fit in the node's available memory
#    (TD_MEMORY_AVAILABLE) is refused before it is read: exit 2 on every
#    rank, one line saying how much it needs and what fits, no result.
#
#   inputs.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args inputs "$@"
fail() { echo "inputs: FAIL: $*" >&2; exit 1; }
cd "$WORK"

run() {     # run TAG EXPECT CONFIG [ENV=VALUE]: 3 ranks, every exit code EXPECT
    td_run_ranks "$1" 3 "$2" env "${4:-NONE=1}" "$BIN" "$3"
}
config() {  # config NAME DATA
    printf '[data]\npath = "%s"\n[output]\npath = "%s_net.h5"\n[parallel]\nblock_rows = 16\n' \
        "$2" "$1" > "$1.toml"
}
same() {
    "$PYTHON" "$here/compare_networks.py" "$1" "$2" --group /network \
        --group /construction --all-attrs > /dev/null || fail "$2 differs from $1"
}

"$PYTHON" "$here/gen_data.py" plain.h5 --q 4 --m 6 --n 900 --seed 12 > /dev/null
"$PYTHON" - <<'PY'
import h5py
import numpy as np
with h5py.File("plain.h5", "r") as f:
    x, y = f["X"][:], f["y"][:]
with h5py.File("plain32.h5", "w") as g:
    g["X"], g["y"] = x.astype(np.float32), y
for name, xx in (("packed.h5", x), ("packed32.h5", x.astype(np.float32))):
    with h5py.File(name, "w") as g:
        g.create_dataset("X", data=xx, chunks=(37, 6), compression="gzip",
                         compression_opts=6, shuffle=True)
        g.create_dataset("y", data=y, chunks=(50,), compression="gzip")
PY
for d in plain plain32 packed packed32; do
    config "$d" "$d.h5"
    run "$d" 0 "$d.toml"
done
same plain_net.h5 packed_net.h5
same plain32_net.h5 packed32_net.h5
config pieces plain.h5
run pieces 0 pieces.toml TD_READ_PIECE_BYTES=200
same plain_net.h5 pieces_net.h5

config big plain.h5
run big 2 big.toml TD_MEMORY_AVAILABLE=60000000
grep -q "plain.h5: the largest shard, 304 rows x 6 features, needs about .* GiB per rank to load, but each of the 3 ranks on this node has .* GiB available (room for about 0 rows): use more ranks or nodes" \
    big.err.0 || fail "big: $(cat big.err.0)"
[ "$(grep -c 'trunc-dist: error:' big.err.0)" = 1 ] || fail "big: not one error line"
grep -q "^data:" big.out.0 && fail "big: the shard was read"
[ ! -e big_net.h5 ] || fail "big: a result was written"
echo "inputs: ok"
