#!/usr/bin/env bash
# Custom target vectors (construction.targets, data.targets_dataset), at 1
# and 3 ranks with block_rows = 8 so the rows really spread:
#  - Theorem 6 (4 classes), pieces (overlapping classes), polytope
#    (binary, a ball in a shell) and clustered (Corollary 4, width Q)
#    reach zero loss by the independent NumPy
#    pass against the *intended* targets (check_network.py --targets-npy /
#    --targets-from: the outputs must equal what was asked for, not only
#    what /network/targets claims), root attribute targets_source says
#    where they came from, and /network is the same bytes at 1 and 3 ranks;
#  - the same matrix from the config and from an int32 dataset gives the
#    same /network bytes;
#  - targets whose one-hot nearest class is another class (row 0 = 2 e_1):
#    `trunc-dist eval` at 3 ranks classifies by the stored targets (100 %),
#    and its predictions file's labels and outputs match NumPy;
#  - large targets (|y| up to 5e4): verify.tolerance is relative to them;
#  - a resume whose targets dataset changed is refused (exit 2, naming
#    the checkpoint); with the dataset restored it gives the same bytes;
#  - dependent targets (config and dataset), a wrong shape, NaN, both keys
#    and --dry-run: exit 2 on every rank, exactly one error line naming
#    the key or dataset (and the dependent rows), no output, no checkpoint.
#
#   targets.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args targets "$@"
fail() { echo "targets: FAIL: $*" >&2; exit 1; }
cd "$WORK"

"$PYTHON" "$here/gen_data.py" d4.h5 --kind clusters --q 4 --m 5 --n 240 --seed 61 > /dev/null
"$PYTHON" "$here/gen_data.py" dov.h5 --kind overlap --m 3 --n 200 --seed 62 > /dev/null
"$PYTHON" "$here/gen_data.py" dbin.h5 --kind concentric --m 3 --n 240 --seed 63 > /dev/null
"$BIN" generate clustered dcl.h5 --n 240 --m 5 --q 4 --seed 64 > /dev/null
# The target sets, as datasets next to X and y and as .npy for the checker.
# T4: row 0 is 2 e_1 and row 1 is 3 e_0, so one-hot nearest-target
# classification would swap classes 0 and 1.
"$PYTHON" - <<'EOF'
import h5py, numpy as np
T4 = np.array([[0, 2, 0, 0], [3, 0, 0, 0], [0, 0, 0, -1], [0, 0, 5, 1]])
sets = {
    "d4.h5": {"T": T4.astype(np.int32), "Tother": (T4 + np.eye(4)).astype(np.float64),
              "Tbig": 1e4 * T4.astype(np.float64),
              "D": np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [1, 2, 0, 0]], float),
              "T3": T4[:3].astype(np.float64),
              "Tnan": np.where(np.eye(4) > 0, 1.0, np.where(np.arange(16).reshape(4, 4) == 6, np.nan, 0.0))},
    "dov.h5": {"T": np.array([[3.0, 1.0], [-1.0, 2.0]])},
    "dbin.h5": {"T": np.array([[2.0, -1.0], [0.5, 3.0]], dtype=np.float32)},
    "dcl.h5": {"T": (T4 - 2 * np.eye(4)).astype(np.int64)},
}
for path, ds in sets.items():
    with h5py.File(path, "a") as f:
        for name, v in ds.items():
            f[name] = v
            np.save(f"{path[:-3]}_{name}.npy", v)
EOF
cp d4.h5 d4_pristine.h5

# config NAME DATA MODE [DATA_EXTRA] [CONSTRUCTION_EXTRA]
config() {
    printf '[data]\npath = "%s"\n%s\n[output]\npath = "%s.h5"\n[checkpoint]\ninterval = 0\n[parallel]\nblock_rows = 8\n[construction]\nmode = "%s"\n%s\n' \
        "$2" "${4:-}" "$1" "$3" "${5:-}" > "$1.toml"
}
T4_TOML='targets = [[0, 2, 0, 0], [3, 0, 0, 0], [0, 0, 0, -1], [0, 0, 5, 1]]'

run() { td_run_ranks "$@"; }

# built NAME NP SOURCE CHECK_ARGS...: a run at NP ranks, checked by NumPy
built() {
    local name=$1 np=$2 source=$3
    shift 3
    run "$name.np$np" "$np" 0 "$BIN" "$name.toml"
    grep -q "zero loss: yes" "$name.np$np.out.0" || fail "$name at $np: $(tail -3 "$name.np$np.out.0")"
    "$PYTHON" "$here/check_network.py" "$name.h5" "$(sed -n 's/^path = "\(.*\)"$/\1/p' "$name.toml" | head -1)" \
        --targets-source "$source" --run-layout "$np,8" "$@" > "$name.np$np.check" ||
        fail "$name at $np ranks: $(cat "$name.np$np.check")"
    mv "$name.h5" "$name.np$np.h5"
}

# both NAME SOURCE CHECK_ARGS...: at 1 and 3 ranks, identical /network
both() {
    local name=$1
    shift
    built "$name" 1 "$@"
    built "$name" 3 "$@"
    "$PYTHON" "$here/compare_networks.py" "$name.np1.h5" "$name.np3.h5" --group /network > /dev/null ||
        fail "$name: /network differs between 1 and 3 ranks"
}

# --- zero loss with custom targets ----------------------------------------
config t6_cfg d4.h5 theorem6 "" "$T4_TOML"
both t6_cfg config --targets-npy d4_T.npy
config t6_ds d4.h5 theorem6 'targets_dataset = "T"'
both t6_ds dataset:T --targets-from d4.h5:T
"$PYTHON" "$here/compare_networks.py" t6_cfg.np1.h5 t6_ds.np1.h5 --group /network > /dev/null ||
    fail "the same targets from the config and from an int32 dataset give different networks"
grep -q "theorem6 construction" t6_ds.np3.out.0 || fail "t6_ds: not Theorem 6"
config pc_cfg dov.h5 pieces "" 'targets = [[3, 1], [-1, 2.0]]'
both pc_cfg config --targets-npy dov_T.npy
grep -q "pieces construction" pc_cfg.np3.out.0 || fail "pc_cfg: not pieces"
config po_ds dbin.h5 polytope 'targets_dataset = "T"'
both po_ds dataset:T --targets-from dbin.h5:T
grep -q "polytope construction" po_ds.np3.out.0 || fail "po_ds: not a polytope"
config cl_ds dcl.h5 clustered 'targets_dataset = "T"'
both cl_ds dataset:T --targets-from dcl.h5:T
grep -q "clustered construction" cl_ds.np3.out.0 || fail "cl_ds: not clustered"
# large targets: the tolerance follows them (outputs of size 5e4)
config t6_big d4.h5 theorem6 'targets_dataset = "Tbig"'
built t6_big 3 dataset:Tbig --targets-from d4.h5:Tbig
grep -q "max |y_jk| = 5e+04" t6_big.np3.out.0 || fail "t6_big: no relative tolerance: $(cat t6_big.np3.out.0)"
# a checker that is told other targets fails (it really compares)
"$PYTHON" "$here/check_network.py" t6_ds.np1.h5 d4.h5 > /dev/null &&
    fail "check_network.py accepted custom targets as one-hot"
"$PYTHON" "$here/check_network.py" t6_ds.np1.h5 d4.h5 --targets-from d4.h5:Tother > /dev/null &&
    fail "check_network.py accepted targets other than the intended ones"

# --- eval classifies by the stored targets --------------------------------
run eval 3 0 "$BIN" eval t6_ds.np3.h5 d4.h5 --predictions pred.h5
grep -q "accuracy 100.0000% (240 / 240)" eval.out.0 || fail "eval: $(cat eval.out.0)"
"$PYTHON" - <<'EOF' || fail "eval predictions"
import h5py, numpy as np, sys
net = h5py.File("t6_ds.np3.h5"); d = h5py.File("d4.h5"); p = h5py.File("pred.h5")
g = net["network"]; L = int(g.attrs["num_layers"]); a = d["X"][...]
for l in range(1, L + 1):
    a = a @ g[f"layer_{l}/weight"][...].T + g[f"layer_{l}/bias"][...]
    if l < L: a = np.maximum(a, 0)
T = d["T"][...].astype(float); lab = g["label_values"][...]
near = lab[np.argmin(((a[:, None] - T) ** 2).sum(-1), 1)]
onehot = lab[np.argmax(a, 1)]
y = d["y"][...]
ok = (np.array_equal(p["predicted_label"][...], near) and np.array_equal(near, y)
      and np.abs(p["output"][...] - a).max() < 1e-9 and (onehot != y).any())
print("eval: nearest-target labels", np.array_equal(near, y), "one-hot argmax wrong on",
      int((onehot != y).sum()), "rows")
sys.exit(0 if ok else 1)
EOF

# --- resume: the targets dataset is part of what a checkpoint fits --------
config rs d4.h5 theorem6 'targets_dataset = "T"'
TD_FAULT_SIGNAL=1:2:15 run rs_stop 3 6 "$BIN" rs.toml
[ -f rs.h5.checkpoint ] && [ ! -e rs.h5 ] || fail "rs_stop: no checkpoint, or a result"
"$PYTHON" -c 'import h5py; f = h5py.File("d4.h5", "a"); f["T"][0, 1] = 7'
run rs_other 3 2 "$BIN" --resume rs.toml
grep -q "rs.h5.checkpoint.*other target vectors" rs_other.err.0 || fail "rs_other: $(cat rs_other.err.0)"
cp d4_pristine.h5 d4.h5
run rs_res 2 0 "$BIN" --resume rs.toml
grep -q "^resume: " rs_res.out.0 || fail "rs_res did not resume"
"$PYTHON" "$here/compare_networks.py" t6_ds.np1.h5 rs.h5 --group /network > /dev/null ||
    fail "the resumed run differs"
[ ! -e rs.h5.checkpoint ] || fail "checkpoint left behind"

# --- refused: exit 2 on every rank, one error line, nothing created -------
# refused NAME NP MSG...: the config NAME.toml, the message fragments
refused() {
    local name=$1 np=$2 r n=0 frag
    shift 2
    run "$name.np$np" "$np" 2 "$BIN" "${opt[@]}" "$name.toml"
    for ((r = 0; r < np; r++)); do
        n=$((n + $(grep -c "^trunc-dist: error:" "$name.np$np.err.$r" || true)))
    done
    [ "$n" = 1 ] || fail "$name at $np: $n error lines"
    for frag in "$@"; do
        grep -qF -- "$frag" "$name.np$np.err.0" || fail "$name: '$frag' not in: $(cat "$name.np$np.err.0")"
    done
    ls "$name".h5* > /dev/null 2>&1 && fail "$name: created $(ls "$name".h5*)"
    return 0
}
opt=()
config dep_cfg d4.h5 theorem6 "" 'targets = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [1, 2, 0, 0]]'
refused dep_cfg 1 "dep_cfg.toml:12: construction.targets: rows 0, 1 and 3 are linearly dependent (y_3 = 1 y_0 + 2 y_1"
refused dep_cfg 3 "dep_cfg.toml:12: construction.targets: rows 0, 1 and 3 are linearly dependent"
config dep_ds d4.h5 pieces 'targets_dataset = "D"'
refused dep_ds 3 "d4.h5: dataset 'D': rows 0, 1 and 3 are linearly dependent (y_3 = 1 y_0 + 2 y_1"
config shape_ds d4.h5 theorem6 'targets_dataset = "T3"'
refused shape_ds 3 "d4.h5: dataset 'T3' has 3 vectors, the data have 4 classes (labels 7, 10, 13, 16)"
config shape_cfg dbin.h5 polytope "" 'targets = [[1, 0, 0], [0, 1, 0]]'
refused shape_cfg 3 "construction.targets holds vectors of 3 numbers, the data have 2 classes"
config nan_ds d4.h5 theorem6 'targets_dataset = "Tnan"'
refused nan_ds 3 "d4.h5: dataset 'Tnan': row 1 column 2 is nan"
config nan_cfg d4.h5 theorem6 "" 'targets = [[1, 0], [0, nan]]'
refused nan_cfg 3 "nan_cfg.toml:12: key 'construction.targets' row 1 element 1 is nan"
config both_keys d4.h5 theorem6 'targets_dataset = "T"' "$T4_TOML"
refused both_keys 3 "keys 'data.targets_dataset' (line 3) and 'construction.targets' (line 12) both give"
config missing_ds d4.h5 theorem6 'targets_dataset = "nope"'
refused missing_ds 3 "d4.h5: no dataset 'nope'"
opt=(--dry-run)
refused dep_cfg 3 "rows 0, 1 and 3 are linearly dependent"
echo "targets: all checks passed"
