#!/usr/bin/env bash
# Clustered data (Proposition 3, Corollary 4), at 1 and 3 ranks with rows
# spread over them (block_rows 8):
#  - data meeting (18) and (20): mode "clustered" and "auto" build the
#    width-Q network (first layer Q x M, then Q wide), zero loss by the
#    independent NumPy pass, identical /network and /construction bytes at
#    1 and 3 ranks, the conditions in /construction/clustered equal to an
#    independent NumPy recomputation, the parameter counts as stated;
#    eval on 3 ranks agrees; the paper's linear output layer and section
#    6.2's neural-collapse layer also at zero loss (nc_check.py);
#  - the same clusters in 200 dimensions with 188 constant (zero)
#    features, times 1e200, in float32, and classes of identical points
#    (delta = 0): built;
#  - separable but not clustered (generate --violate 0.5): auto builds
#    Theorem 6 and says which condition fails; mode "clustered" still
#    builds (its cones separate) and says the conditions fail;
#  - further (--violate 1.5): mode "clustered" fits each base point along
#    f_j (base rule 6), still exact;
#  - far from clustered (scikit-learn's iris): mode "clustered" exits 3
#    on every rank naming the layer and the conditions, nothing written;
#  - M < Q - 1 with mode "clustered": exit 2 naming the dataset; auto on
#    four clusters at a square's corners (conditions hold, means affinely
#    dependent) says why not and builds pieces; clustered data with
#    M = Q - 1: auto builds the smaller Theorem 6 network and says so;
#  - a stop signal after a layer: exit 6 everywhere, --resume rebuilds
#    the same bytes.
#
#   clustered.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args clustered "$@"
SKLEARN_DATA="${SKLEARN_DATA:-/usr/lib/python3/dist-packages/sklearn/datasets/data}"
fail() { echo "clustered: FAIL: $*" >&2; exit 1; }
cd "$WORK"

config() {  # config NAME DATA MODE [LINE]: NAME.toml writing NAME.h5
    printf '[data]\npath = "%s"\n[output]\npath = "%s.h5"\n[parallel]\nblock_rows = 8\n[construction]\nmode = "%s"\n%s\n' \
        "$2" "$1" "$3" "${4:-}" > "$1.toml"
}

# zero_loss RESULT DATA: the independent NumPy forward pass reaches zero loss
zero_loss() {
    "$PYTHON" "$here/check_network.py" "$1" "$2" > /dev/null ||
        fail "$1: the independent forward pass is not at zero loss"
}

# build NAME DATA MODE NP EXPECT: run it, every rank's exit code EXPECT
build() {
    config "$1" "$2" "$3"
    td_run_ranks "$1" "$4" "$5" "$BIN" "$1.toml"
}

"$BIN" generate clustered cl.h5 --n 1200 --m 12 --q 4 --seed 5 > /dev/null
"$BIN" generate clustered v05.h5 --n 1200 --m 12 --q 4 --seed 6 \
    --violate 0.5 > /dev/null
"$BIN" generate clustered v15.h5 --n 1200 --m 12 --q 4 --seed 6 \
    --violate 1.5 > /dev/null
"$BIN" convert "$SKLEARN_DATA/iris.csv" iris.h5 > /dev/null
"$BIN" generate clustered m4.h5 --n 400 --m 4 --q 5 --seed 8 > /dev/null
"$PYTHON" - <<'PY'
import h5py
import numpy as np
with h5py.File("cl.h5", "r") as f:
    x, y = f["X"][:], f["y"][:]
# the same clusters among 188 constant features (a degenerate subspace)
wide = np.zeros((x.shape[0], 200))
wide[:, 50:62] = x
with h5py.File("wide.h5", "w") as f:
    f["X"], f["y"] = wide, y
# the same clusters at 1e200 (built at an exact power-of-two scale) and
# stored as float32
with h5py.File("huge.h5", "w") as f:
    f["X"], f["y"] = x * 1e200, y
with h5py.File("f32.h5", "w") as f:
    f["X"], f["y"] = x.astype(np.float32), y
# every class one repeated point: delta = 0
means = np.array([[3, 0, 0], [0, 4, 0], [0, 0, 5], [-2, -2, -2]], float)
lab = np.arange(40) % 4
with h5py.File("points.h5", "w") as f:
    f["X"], f["y"] = means[lab], lab
# four clusters at the corners of a square: both conditions hold, but the
# means are affinely dependent (no width-Q route)
rng = np.random.default_rng(1)
sq = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], float)
ls = np.arange(400) % 4
with h5py.File("square.h5", "w") as f:
    f["X"], f["y"] = sq[ls] + rng.uniform(-0.3, 0.3, (400, 2)), ls
with h5py.File("thin.h5", "w") as f:     # M = 2 < Q - 1 = 3
    f["X"], f["y"] = means[lab][:, :2] + 0.01 * np.arange(40)[:, None], lab
PY

for np_ in 1 3; do
    build "cl$np_" cl.h5 clustered "$np_" 0
    build "auto$np_" cl.h5 auto "$np_" 0
done
"$PYTHON" "$here/compare_networks.py" cl1.h5 cl3.h5 auto1.h5 auto3.h5 \
    --group /network > /dev/null || fail "networks differ across rank counts or modes"
"$PYTHON" "$here/compare_networks.py" cl1.h5 cl3.h5 --group /construction \
    --all-attrs > /dev/null || fail "/construction differs at 1 and 3 ranks"
for r in cl1 cl3 auto3; do
    zero_loss "$r.h5" cl.h5
done
grep -q "^clustered (Proposition 3): .*(18) holds.*(20) holds" auto3.out.0 ||
    fail "auto did not report the conditions"
grep -q "^construction: auto: clustered data (Proposition 3's conditions hold" \
    auto3.out.0 || fail "auto did not say why it built the clustered network"

# the shapes, counts and conditions, recomputed independently
"$PYTHON" - cl3.h5 cl.h5 <<'PY'
import sys
import h5py
import numpy as np
res, data = sys.argv[1], sys.argv[2]
with h5py.File(data, "r") as f:
    x, y = f["X"][:].astype(float), f["y"][:]
labels = np.unique(y)
q, m = len(labels), x.shape[1]
with h5py.File(res, "r") as f:
    net, con = f["network"], f["construction"]
    c = con["clustered"]
    assert con.attrs["construction"] in (b"clustered", "clustered")
    L = int(net.attrs["num_layers"])
    shapes = [net[f"layer_{k}/weight"].shape for k in range(1, L + 1)]
    assert shapes[0] == (q, m), shapes
    assert all(s == (q, q) for s in shapes[1:]), shapes
    assert L == q + 1, L                     # no reset layer here
    dense = sum(a * (b + 1) for a, b in shapes)
    assert con.attrs["params_dense"] == dense == q * (m + q * q + q + 1)
    assert con.attrs["params_paper_corollary4"] == q * (m + q * q)
    assert con.attrs["params_paper_theorem6"] == q * (m + 2)
    got = {k: c.attrs[k] for k in ("delta", "c0", "theta_star_max",
                                   "condition_18", "condition_20")}
    theta = c["theta_star"][:]
    proj = c["projection"][:]
mu = np.array([x[y == l].mean(0) for l in labels])
xbar = mu.mean(0)
delta = max(np.linalg.norm(x[y == l] - mu[j], axis=1).max()
            for j, l in enumerate(labels))
dist = np.linalg.norm(mu - xbar, axis=1)
c0 = delta / dist.min()
th = []
for j in range(q):
    f = (xbar - mu[j]) / dist[j]
    half = 0
    for k in range(q):
        if k == j:
            continue
        d = np.linalg.norm(mu[k] - mu[j])
        ang = np.arccos(np.clip((mu[k] - mu[j]) @ f / d, -1, 1))
        half = max(half, ang + np.arcsin(4 * delta / d))
    th.append(2 * half)
th = np.array(th)
assert np.isclose(got["delta"], delta, rtol=1e-12), (got["delta"], delta)
assert np.isclose(got["c0"], c0, rtol=1e-12), (got["c0"], c0)
assert np.allclose(theta, th, rtol=1e-10), (theta, th)
assert np.isclose(got["theta_star_max"], th.max(), rtol=1e-10)
assert got["condition_18"] == (c0 < 0.25) == 1
assert got["condition_20"] == (th.max() < np.pi) == 1
# the projection: orthonormal rows spanning the mean differences
assert np.allclose(proj @ proj.T, np.eye(q - 1), atol=1e-12)
resid = (mu - xbar) - (mu - xbar) @ proj.T @ proj
assert np.abs(resid).max() < 1e-10 * dist.max()
print("clustered: conditions and shapes agree")
PY

# a stop after layer 2 (SIGTERM on rank 1): exit 6 on every rank, nothing
# written; --resume at 1 rank builds it again, the same bytes
config stop cl.h5 clustered
TD_FAULT_SIGNAL=1:2:15 td_run_ranks stop 3 6 "$BIN" stop.toml
grep -q "error: stopped by SIGTERM" stop.err.0 || fail "stop: no stop message"
[ ! -e stop.h5 ] || fail "stop: a result was written"
td_run_ranks stop_resume 1 0 "$BIN" --resume stop.toml
"$PYTHON" "$here/compare_networks.py" cl1.h5 stop.h5 --group /network \
    --group /construction > /dev/null || fail "the resumed build differs"

# Every case below at 1 and 3 ranks (P), outputs NAME_P.h5.
cases() {
local P=$1 kind d

# Proposition 3 with the paper's own output layer Y P^+ (b = 0) and with
# section 6.2's (rank Q - 1, b = u/Q): zero loss, checked independently
for kind in linear neural_collapse; do
    config "nc_${kind}_$P" cl.h5 clustered "output_layer = \"$kind\""
    td_run_ranks "nc_${kind}_$P" "$P" 0 "$BIN" "nc_${kind}_$P.toml"
    zero_loss "nc_${kind}_$P.h5" cl.h5
    "$PYTHON" "$here/nc_check.py" "nc_${kind}_$P.h5" cl.h5 --kind "$kind" > /dev/null ||
        fail "nc_${kind}_$P: the output layer or the NC numbers disagree"
done

td_run_ranks "eval_$P" "$P" 0 "$BIN" eval cl3.h5 cl.h5
grep -q "accuracy 100.0000% (1200 / 1200)" "eval_$P.out.0" || fail "eval on $P ranks"

# degenerate inputs: constant features, classes of identical points;
# extreme magnitudes and float32 storage
for d in wide points huge f32; do
    build "${d}_$P" "$d.h5" clustered "$P" 0
    zero_loss "${d}_$P.h5" "$d.h5"
done

# separable, not clustered: auto says why and builds Theorem 6; mode
# "clustered" still builds, saying the conditions fail
build "v05auto_$P" v05.h5 auto "$P" 0
grep -q "^clustered (Proposition 3): .*(18) fails, c0 = .* >= 1/4 (delta 1.5 times too large)" \
    "v05auto_$P.out.0" || fail "auto: the failing condition (18) not reported"
grep -q "^construction: auto: sequentially separable at width M; not clustered (Proposition 3): (18) fails" \
    "v05auto_$P.out.0" || fail "auto did not say why not clustered"
"$PYTHON" - "v05auto_$P.h5" <<'PY' || fail "v05auto_$P: not Theorem 6"
import sys
import h5py
with h5py.File(sys.argv[1], "r") as f:
    a = f["construction"].attrs
    assert a["construction"] in (b"theorem6", "theorem6")
    assert a["width"] == 12 and f["construction/clustered"].attrs["condition_18"] == 0
PY
zero_loss "v05auto_$P.h5" v05.h5
build "v05cl_$P" v05.h5 clustered "$P" 0
grep -q "^construction: construction.mode = \"clustered\" (a condition of Proposition 3 fails" \
    "v05cl_$P.out.0" || fail "v05cl_$P: not said that a condition fails"
zero_loss "v05cl_$P.h5" v05.h5

# further from clustered: the paper's mu_j = 2.5 delta puts the base
# points beyond the other classes; mode "clustered" moves them along f_j
# into the gap and says so, still exact
build "v15cl_$P" v15.h5 clustered "$P" 0
[ "$(grep -c "(mu fitted: .*; the paper's .* does not separate)" "v15cl_$P.out.0")" = 4 ] ||
    fail "v15cl_$P: expected 4 layers with a fitted mu"
zero_loss "v15cl_$P.h5" v15.h5
"$PYTHON" - "v15cl_$P.h5" <<'PY' || fail "v15cl_$P: base_rule 6 and the fitted mu not recorded"
import sys
import h5py
import numpy as np
with h5py.File(sys.argv[1], "r") as f:
    c = f["construction"]
    assert (c["base_rule"][:] == 6).all()
    g = c["clustered"]
    assert g.attrs["condition_18"] == 0
    assert not np.allclose(g["mu"][:], 2.5 * g.attrs["delta"])
PY

# far from clustered (iris: c0 = 3.5): exit 3 everywhere, one line,
# nothing written
build "iris_$P" iris.h5 clustered "$P" 3
grep -q "error: clustered: layer 2: no cone with axis f_j separates class 1 .*(18) fails.*(20) fails" \
    "iris_$P.err.0" || fail "iris_$P: no error naming the layer and the conditions"
[ "$(grep -c error "iris_$P.err.0")" = 1 ] || fail "iris_$P: not exactly one error line"
[ ! -e "iris_$P.h5" ] || fail "iris_$P: a result was written"

# conditions that hold on means that do not span Q - 1 dimensions: auto
# says so and builds pieces
build "square_$P" square.h5 auto "$P" 0
grep -q "^construction: auto: .*; Proposition 3's conditions hold, but clustered: the class means are affinely dependent (their differences span 2 of 3 dimensions)" \
    "square_$P.out.0" || fail "square_$P: auto did not say why not clustered"
zero_loss "square_$P.h5" square.h5

# clustered, but M = Q - 1: Theorem 6's network is the smaller, auto says so
build "m4_$P" m4.h5 auto "$P" 0
grep -q "^construction: auto: sequentially separable at width M; Proposition 3's conditions hold, but with M = 4 = Q - 1 Theorem 6's width-M network has fewer parameters" \
    "m4_$P.out.0" || fail "m4_$P: auto did not say why Theorem 6"

build "thin_$P" thin.h5 clustered "$P" 2
grep -q "error: thin.h5: 4 classes need at least 3 features for construction.mode = \"clustered\".*dataset 'X' has 2" \
    "thin_$P.err.0" || fail "thin_$P: no error naming the dataset"
}

cases 1
cases 3
"$PYTHON" "$here/compare_networks.py" v15cl_1.h5 v15cl_3.h5 --group /network \
    --group /construction > /dev/null || fail "v15cl differs at 1 and 3 ranks"
echo "clustered: all cases passed"
