#!/usr/bin/env bash
# trunc-dist eval: a result's network on other data, at 3 ranks with rows
# spread (eval reads in blocks of 1024, so the test split has 3000+ rows).
#  - a pieces network (overlapping classes, lifted width, structured pass)
#    on its own training data: accuracy 100 %;
#  - on another draw of the same kind (3500 rows): the accuracy eval prints
#    equals the one an independent NumPy forward pass of the dense /network
#    layers gives (the structured form is the same function);
#  - --predictions OUT.h5 at 3 and 1 ranks: the same bytes; per row the
#    labels NumPy's dense pass predicts, its outputs (to 1e-9 on the
#    training rows; 1e-4 on the test rows, some of which lie near a kink
#    of a deep, ill-conditioned layer, where the structured and the
#    dense form round differently), the
#    confusion matrix and per-class accuracy that go with them, and per
#    layer and class on the training data: no point only partly truncated,
#    and at each layer exactly the rows the construction collapsed there;
#  - an existing predictions file is kept unless --force, an input is
#    never one;
#  - [eval] path in a config: /eval holds the same confusion and layer
#    table as eval's predictions file and the class-balanced cost C_N of
#    its outputs (section 6.2), /construction the training tables; a
#    missing eval.path is refused before the build;
#  - a network of another feature count, or labels the network does not
#    know (named): exit 2 on every rank, naming the file.
#
#   eval.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args eval "$@"
fail() { echo "eval: FAIL: $*" >&2; exit 1; }

"$PYTHON" "$here/gen_data.py" "$WORK/train.h5" --kind overlap --m 3 --n 600 --seed 51
"$PYTHON" "$here/gen_data.py" "$WORK/test.h5" --kind overlap --m 3 --n 3500 --seed 52
"$PYTHON" "$here/gen_data.py" "$WORK/wide.h5" --kind clusters --q 2 --m 5 --n 300 --seed 53
"$PYTHON" "$here/gen_data.py" "$WORK/other.h5" --kind clusters --q 2 --m 3 --n 300 --seed 54 \
    --label-offset 90
printf '[data]\npath = "train.h5"\n[output]\npath = "net.h5"\n[parallel]\nblock_rows = 16\n' \
    > "$WORK/config.toml"
"${mpiexec_cmd[@]}" --oversubscribe -n 2 "$BIN" "$WORK/config.toml" > "$WORK/build.out"
grep -q "pieces construction" "$WORK/build.out" || fail "expected a pieces network"

# run NAME EXPECT ARGS...: eval at 3 ranks, every rank's exit code recorded
run() {
    local name=$1 expect=$2
    shift 2
    td_run_ranks "$name" 3 "$expect" "$BIN" eval "$@"
}

run self 0 "$WORK/net.h5" "$WORK/train.h5"
grep -q "accuracy 100.0000% (600 / 600)" "$WORK/self.out.0" || fail "self: $(cat "$WORK/self.out.0")"

run test 0 "$WORK/net.h5" "$WORK/test.h5"
got=$(sed -n 's/.*accuracy \([0-9.]*\)% (\([0-9]*\) \/ \([0-9]*\)).*/\2 \3/p' "$WORK/test.out.0")
want=$("$PYTHON" - "$WORK/net.h5" "$WORK/test.h5" <<'EOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f, h5py.File(sys.argv[2], "r") as d:
    g = f["network"]; L = int(g.attrs["num_layers"])
    a = d["X"][...].astype(np.float64); y = d["y"][...]
    for l in range(1, L + 1):
        a = a @ g[f"layer_{l}/weight"][...].T + g[f"layer_{l}/bias"][...]
        if l < L:
            a = np.maximum(a, 0)
    T = g["targets"][...]; lab = g["label_values"][...]
    pred = lab[np.argmin(((a[:, None, :] - T[None]) ** 2).sum(-1), 1)]
    print(int((pred == y).sum()), len(y))
EOF
)
[ "$got" = "$want" ] || fail "test split: eval says '$got' correct, NumPy says '$want'"
echo "eval: test split $got (NumPy: $want)"

run wide 2 "$WORK/net.h5" "$WORK/wide.h5"
grep -q "wide.h5: 5 features, the network takes 3" "$WORK/wide.err.0" ||
    fail "wide: $(cat "$WORK/wide.err.0")"
run other 2 "$WORK/net.h5" "$WORK/other.h5"
grep -q "other.h5: labels 9[0-9], 9[0-9] were not seen in training (the network has 2 classes" "$WORK/other.err.0" ||
    fail "other: $(cat "$WORK/other.err.0")"
run nonet 2 "$WORK/train.h5" "$WORK/train.h5"
grep -q "train.h5: not a trunc-dist result" "$WORK/nonet.err.0" ||
    fail "nonet: $(cat "$WORK/nonet.err.0")"
# --- predictions ----------------------------------------------------------
run pred3 0 "$WORK/net.h5" "$WORK/train.h5" --predictions "$WORK/pred3.h5"
grep -q "eval: confusion" "$WORK/pred3.out.0" || fail "pred3: no confusion matrix"
"${mpiexec_cmd[@]}" -n 1 "$BIN" eval "$WORK/net.h5" "$WORK/train.h5" \
    --predictions "$WORK/pred1.h5" > /dev/null
run predtest 0 "$WORK/net.h5" "$WORK/test.h5" --predictions "$WORK/predtest.h5"
"$PYTHON" - "$WORK" <<'EOF' || fail "predictions"
import sys, h5py, numpy as np
w = sys.argv[1]
def dense(net, X):
    g = net["network"]; L = int(g.attrs["num_layers"]); a = X
    for l in range(1, L + 1):
        a = a @ g[f"layer_{l}/weight"][...].T + g[f"layer_{l}/bias"][...]
        if l < L:
            a = np.maximum(a, 0)
    return a
bad = []
with h5py.File(w + "/pred3.h5", "r") as a, h5py.File(w + "/pred1.h5", "r") as b:
    for k in a:
        if a[k][()].tobytes() != b[k][()].tobytes():
            bad.append("1 vs 3 ranks: " + k)
net = h5py.File(w + "/net.h5", "r")
T = net["network/targets"][...]; lab = net["network/label_values"][...]
for data, pred, tol in (("train", "pred3", 1e-9), ("test", "predtest", 1e-4)):
    d, p = h5py.File(f"{w}/{data}.h5", "r"), h5py.File(f"{w}/{pred}.h5", "r")
    X, y = d["X"][...].astype(np.float64), d["y"][...]
    out = dense(net, X)
    want = lab[np.argmin(((out[:, None, :] - T[None]) ** 2).sum(-1), 1)]
    if not np.array_equal(p["label"][...], y): bad.append(pred + ": label")
    if not np.array_equal(p["predicted_label"][...], want): bad.append(pred + ": predicted")
    if np.abs(p["output"][...] - out).max() > tol: bad.append(pred + ": output")
    conf = np.zeros((len(lab), len(lab)), int)
    for t, q in zip(np.searchsorted(lab, y), np.searchsorted(lab, want)):
        conf[t, q] += 1
    if not np.array_equal(p["confusion"][...], conf): bad.append(pred + ": confusion")
    acc = np.diag(conf) / conf.sum(1)
    if not np.allclose(p["class_accuracy"][...], acc): bad.append(pred + ": class_accuracy")
    if abs(p.attrs["accuracy"][0] - (want == y).mean()) > 1e-12: bad.append(pred + ": accuracy")
p = h5py.File(w + "/pred3.h5", "r")
col, part = p["layer_collapsed"][...], p["layer_partial"][...]
c = net["construction"]
want = np.zeros_like(col)
for l, (who, n) in enumerate(zip(c["order_labels"][...], c["n_collapsed"][...])):
    want[l, np.searchsorted(lab, who)] = n
if part.any(): bad.append("training rows only partly truncated")
if not np.array_equal(col, want): bad.append("layer_collapsed differs from the construction's n_collapsed")
print("\n".join(bad)); sys.exit(1 if bad else 0)
EOF
sum=$(cksum < "$WORK/pred3.h5")
run predagain 2 "$WORK/net.h5" "$WORK/train.h5" --predictions "$WORK/pred3.h5"
grep -q "pred3.h5 exists: run with --force to replace it" "$WORK/predagain.err.0" || fail "predagain: $(cat "$WORK/predagain.err.0")"
[ "$(cksum < "$WORK/pred3.h5")" = "$sum" ] || fail "the refused eval changed pred3.h5"
run predforce 0 "$WORK/net.h5" "$WORK/train.h5" --predictions "$WORK/pred3.h5" --force
run predinput 2 "$WORK/net.h5" "$WORK/train.h5" --predictions "$WORK/train.h5" --force
grep -q "is an input of the evaluation" "$WORK/predinput.err.0" || fail "predinput: $(cat "$WORK/predinput.err.0")"
# --- [eval] in the config: the test set stored under /eval ---------------
printf '[data]\npath = "train.h5"\n[output]\npath = "net_eval.h5"\n[eval]\npath = "test.h5"\n[parallel]\nblock_rows = 16\n' \
    > "$WORK/with_eval.toml"
"${mpiexec_cmd[@]}" --oversubscribe -n 3 "$BIN" "$WORK/with_eval.toml" > "$WORK/with_eval.out"
"$PYTHON" - "$WORK" <<'EOF' || fail "/eval and the training layer table"
import sys, h5py, numpy as np
w = sys.argv[1]
r, p = h5py.File(w + "/net_eval.h5", "r"), h5py.File(w + "/predtest.h5", "r")
bad = []
for k in ("confusion", "layer_kept", "layer_collapsed", "layer_partial"):
    if not np.array_equal(r["eval/" + k][...], p[k][...]): bad.append("/eval/" + k)
if r["eval"].attrs["n_correct"] != (p["predicted_label"][...] == p["label"][...]).sum():
    bad.append("/eval n_correct")
# section 6.2's class-balanced cost: each class's squared errors averaged
# over its own rows, from an independent dense pass over the test rows (the
# run verified this small network dense)
T = r["network/targets"][...]; lab = r["network/label_values"][...]
g = r["network"]; L = int(g.attrs["num_layers"])
out = h5py.File(w + "/test.h5", "r")["X"][...].astype(np.float64)
for l in range(1, L + 1):
    out = out @ g[f"layer_{l}/weight"][...].T + g[f"layer_{l}/bias"][...]
    if l < L:
        out = np.maximum(out, 0)
y = np.searchsorted(lab, p["label"][...])
cn = sum(((out[y == c] - T[c]) ** 2).sum() / (y == c).sum() for c in np.unique(y))
got = r["eval"].attrs["cost_balanced"]
if r["verification"].attrs["forward"] != b"dense": bad.append("expected a dense verification")
if abs(got - cn) > 1e-9 * max(1.0, abs(cn)): bad.append("/eval cost_balanced %r != %r" % (got, cn))
if not r["verification"].attrs["cost_balanced"] < 1e-12: bad.append("training C_N not ~0")
c = r["construction"]; lab = r["network/label_values"][...]
want = np.zeros_like(c["layer_collapsed"][...])
for l, (who, n) in enumerate(zip(c["order_labels"][...], c["n_collapsed"][...])):
    want[l, np.searchsorted(lab, who)] = n
if not np.array_equal(c["layer_collapsed"][...], want): bad.append("/construction/layer_collapsed")
if c["layer_partial"][...].any(): bad.append("/construction/layer_partial")
print("\n".join(bad)); sys.exit(1 if bad else 0)
EOF
printf '[data]\npath = "train.h5"\n[output]\npath = "net_noeval.h5"\n[eval]\npath = "missing.h5"\n' \
    > "$WORK/missing_eval.toml"
"${mpiexec_cmd[@]}" --oversubscribe -n 3 "$BIN" "$WORK/missing_eval.toml" \
    > "$WORK/missing_eval.out" 2> "$WORK/missing_eval.err" && fail "missing eval.path: exit 0"
grep -q "eval.path '.*missing.h5': No such file" "$WORK/missing_eval.err" ||
    fail "missing eval.path: $(cat "$WORK/missing_eval.err")"
grep -q "^search" "$WORK/missing_eval.out" && fail "missing eval.path found after the build"
[ ! -e "$WORK/net_noeval.h5" ] || fail "missing eval.path: a result was written"
echo "eval: ok"
