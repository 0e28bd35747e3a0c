#!/usr/bin/env bash
# construction.output_layer and section 6.2 (README, "Neural collapse"):
# every kind at zero loss for Theorem 6, pieces (random labels: classes in
# several pieces) and the polytope, at 1 and 3 ranks with block_rows = 8 so
# every rank holds several blocks; check_network.py (independent forward
# pass), nc_check.py (the kind's rank and bias from the stored layers, the
# NC numbers recomputed in NumPy), identical /network, /construction,
# /verification and /neural_collapse bytes at 1 and 3 ranks; and the
# refusal of linear with M = Q - 1 (exit 2 on every rank, no file).
#
#   neural_collapse.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args neural_collapse "$@"
cd "$WORK"

"$BIN" generate blobs blobs.h5 --n 240 --m 6 --q 4 --seed 11 > /dev/null
"$BIN" generate random random.h5 --n 150 --m 3 --q 3 --seed 5 > /dev/null
"$BIN" generate blobs narrow.h5 --n 90 --m 2 --q 3 --seed 2 > /dev/null
"$PYTHON" "$here/gen_data.py" shell.h5 --kind concentric --m 3 --n 200 --seed 4 > /dev/null

# config TAG DATA MODE KIND
config() {
    printf '[data]\npath = "%s"\n[output]\npath = "%s.h5"\n[construction]\nmode = "%s"\noutput_layer = "%s"\n[parallel]\nblock_rows = 8\n' \
        "$2" "$1" "$3" "$4" > "$1.toml"
}

for spec in blobs:theorem6 random:pieces shell:polytope; do
    data=${spec%%:*} mode=${spec##*:}
    for kind in affine linear neural_collapse; do
        for np in 1 3; do
            tag=${mode}_${kind}_np$np
            config "$tag" "$data.h5" "$mode" "$kind"
            td_run_ranks "$tag" "$np" 0 "$BIN" --quiet "$tag.toml"
            "$PYTHON" "$here/check_network.py" "$tag.h5" "$data.h5" --run-layout "$np,8" > /dev/null
            "$PYTHON" "$here/nc_check.py" "$tag.h5" "$data.h5" --kind "$kind"
        done
        "$PYTHON" "$here/compare_networks.py" "${mode}_${kind}_np1.h5" "${mode}_${kind}_np3.h5" \
            --all-attrs --group /network --group /construction --group /verification \
            --group /neural_collapse > /dev/null
    done
done
"$PYTHON" "$here/row_spread.py" random.h5 --block-rows 8 --run 3:pieces_affine_np3.h5 > /dev/null

# linear needs M >= Q at width M: refused before any work, exit 2
for np in 1 3; do
    config refused_np$np narrow.h5 theorem6 linear
    td_run_ranks refused_np$np "$np" 2 "$BIN" refused_np$np.toml
    grep -q 'output_layer = "linear" needs the 3 base points linearly independent' refused_np$np.err.0
    [ ! -e refused_np$np.h5 ] || { echo "FAIL: refused run left refused_np$np.h5" >&2; exit 1; }
done
echo "neural_collapse: ok"
