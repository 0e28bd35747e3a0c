#!/usr/bin/env bash
# Data of extreme magnitude: the construction commutes with scaling the
# data by a power of two.  Separable clusters times 2^600 and 2^-700 give
# identical /construction bytes (they are built at the same exact scale,
# attribute input_scale) and /network layers but the first, whose weights
# differ by exactly 2^1300; data times 1e155, 1e300 and 1e-200 (and
# random labels, built from pieces, times 1e200) reach zero loss by the
# independent NumPy forward pass on the data as stored, and eval agrees;
# data whose largest |x| is subnormal exit 2 naming the dataset.  3 ranks,
# block_rows 16, every rank's exit code checked.
#
#   extreme.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args extreme "$@"
fail() { echo "extreme: FAIL: $*" >&2; exit 1; }
cd "$WORK"

run() {     # run TAG EXPECT ARGS...: 3 ranks, every exit code EXPECT
    local tag=$1 expect=$2
    shift 2
    td_run_ranks "$tag" 3 "$expect" "$BIN" "$@"
}

"$PYTHON" "$here/gen_data.py" cl.h5 --q 3 --m 4 --n 600 --seed 3 > /dev/null
"$PYTHON" "$here/gen_data.py" rl.h5 --kind random_labels --q 3 --m 2 --n 300 \
    --seed 8 > /dev/null
"$PYTHON" - <<'PY'
import h5py
import numpy as np
for src, name, s in [("cl", "p600", np.ldexp(1.0, 600)),
                     ("cl", "m700", np.ldexp(1.0, -700)),
                     ("cl", "e155", 1e155), ("cl", "e300", 1e300),
                     ("cl", "em200", 1e-200), ("rl", "rl200", 1e200),
                     ("cl", "sub", 1e-310)]:
    with h5py.File(src + ".h5", "r") as f:
        x, y = f["X"][:], f["y"][:]
    with h5py.File(name + ".h5", "w") as g:
        g["X"] = x * s
        g["y"] = y
PY

for n in p600 m700 e155 e300 em200 rl200; do
    printf '[data]\npath = "%s.h5"\n[output]\npath = "%s_net.h5"\n[parallel]\nblock_rows = 16\n' \
        "$n" "$n" > "$n.toml"
    run "$n" 0 "$n.toml"
    grep -q "extreme magnitudes: the construction runs on x \* 2^" "$n.out.0" ||
        fail "$n: not scaled: $(cat "$n.out.0")"
    "$PYTHON" "$here/check_network.py" "${n}_net.h5" "$n.h5" > /dev/null ||
        fail "$n: not at zero loss on the data as stored"
    run "${n}_eval" 0 eval "${n}_net.h5" "$n.h5"
    grep -q "accuracy 100.0000%" "${n}_eval.out.0" ||
        fail "$n: eval: $(cat "${n}_eval.out.0")"
done

"$PYTHON" - <<'PY' || fail "2^600 and 2^-700 were not built alike"
import sys
import h5py
import numpy as np
a, b = h5py.File("p600_net.h5", "r"), h5py.File("m700_net.h5", "r")
bad = []
def walk(name, obj):
    if isinstance(obj, h5py.Dataset) and name != "network/layer_1/weight":
        if obj[()].tobytes() != b[name][()].tobytes():
            bad.append(name)
a.visititems(walk)
wa, wb = a["network/layer_1/weight"][:], b["network/layer_1/weight"][:]
h = np.ldexp(1.0, -650)   # 2^-1300 itself is not a double
if not np.array_equal(wa, wb * h * h):
    bad.append("layer_1 weight ratio is not exactly 2^-1300")
sa = a["construction"].attrs["input_scale"]
sb = b["construction"].attrs["input_scale"]
if sa / h / h != sb:
    bad.append("input_scale %r %r" % (sa, sb))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY

printf '[data]\npath = "sub.h5"\n[output]\npath = "sub_net.h5"\n' > sub.toml
run sub 2 sub.toml
grep -q "sub.h5: dataset 'X': the largest |x| is below double precision's normal range" \
    sub.err.0 || fail "sub: $(cat sub.err.0)"
[ ! -e sub_net.h5 ] || fail "sub: a result was written"
echo "extreme: ok"
