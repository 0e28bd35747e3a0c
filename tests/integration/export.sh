#!/usr/bin/env bash
# scripts/export_network.py, plot_layers.py and plot_truncation.py on real
# results of the binary (2 ranks): Theorem 6 (3 classes in the plane), pieces
# (random labels, 3 classes in the plane, dozens of layers), a polytope
# (binary, a ball in a shell) and Theorem 6 in 6-D (the plots' projection).
#  - .npz (NumPy loader), .pt (rebuilt by load_trunc_dist, forward in torch
#    float64) and .onnx (onnx.checker, initializers read back, the graph run
#    in NumPy; ONNX Runtime too when installed; pieces also with external
#    data) give the outputs of an independent NumPy pass of the HDF5 layers
#    on the training data to 1e-12 relative, and every row's nearest target
#    is its own label (zero loss); weights bit-identical to /network;
#  - both plots are written (non-empty PNG) and plot_truncation's cone maps
#    and facets agree with /construction's counts, also for a best-effort
#    network (rows in neither cone);
#  - bad input (a data file as network, an unknown extension, not HDF5, an
#    existing output, data of another feature count, a non-PNG name): exit 2
#    with one line naming the file, nothing left behind.
#
#   export.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
scripts="$(cd "$here/../../scripts" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args export "$@"
fail() { echo "export: FAIL: $*" >&2; exit 1; }

for mod in torch:python3-torch onnx:python3-onnx matplotlib:python3-matplotlib; do
    "$PYTHON" -c "import ${mod%%:*}" 2>/dev/null ||
        fail "$PYTHON cannot import ${mod%%:*} (Debian package ${mod#*:})"
done

# build NAME GEN-ARGS...: data NAME.h5 and its result NAME_net.h5
build() {
    local name=$1
    shift
    "$PYTHON" "$here/gen_data.py" "$WORK/$name.h5" "$@" > /dev/null
    printf '[data]\npath = "%s.h5"\n[output]\npath = "%s_net.h5"\n[parallel]\nblock_rows = 16\n[construction]\nmode = "%s"\n' \
        "$name" "$name" "${mode:-auto}" > "$WORK/$name.toml"
    "${mpiexec_cmd[@]}" --oversubscribe -n 2 "$BIN" --quiet "$WORK/$name.toml" \
        > "$WORK/$name.build.out" || fail "$name: trunc-dist exit $?"
    grep -q "$name_kind" "$WORK/$name.build.out" ||
        fail "$name: expected a $name_kind network: $(cat "$WORK/$name.build.out")"
}
mode=theorem6 name_kind="theorem6 construction" build t6 --kind clusters --q 3 --m 2 --n 300 --seed 61
name_kind="pieces construction" build pc --kind random_labels --q 3 --m 2 --n 200 --seed 62
name_kind="polytope construction" build po --kind concentric --m 2 --n 300 --seed 63
mode=theorem6 name_kind="theorem6 construction" build hd --kind clusters --q 4 --m 6 --n 400 --seed 64
mode=clustered name_kind="clustered construction" build cl --kind clusters --q 3 --m 5 --n 300 --seed 65

for n in t6 pc po hd cl; do
    for ext in npz pt onnx; do
        "$PYTHON" "$scripts/export_network.py" "$WORK/${n}_net.h5" "$WORK/$n.$ext" \
            > "$WORK/$n.$ext.out" || fail "export $n.$ext: exit $?"
    done
    grep -q "onnx.checker ok; .* initializers equal the HDF5 layers bit for bit" \
        "$WORK/$n.onnx.out" || fail "$n.onnx: $(cat "$WORK/$n.onnx.out")"
    "$PYTHON" "$scripts/plot_layers.py" "$WORK/${n}_net.h5" "$WORK/${n}_layers.png" \
        > "$WORK/$n.layers.out" || fail "plot_layers $n: exit $?"
    "$PYTHON" "$scripts/plot_truncation.py" "$WORK/${n}_net.h5" "$WORK/$n.h5" \
        "$WORK/${n}_truncation.png" --layers 4 > "$WORK/$n.trunc.out" ||
        fail "plot_truncation $n: exit $?: $(cat "$WORK/$n.trunc.out")"
    grep -q -E "(cone maps|facets) agree with /construction's counts" "$WORK/$n.trunc.out" ||
        fail "plot_truncation $n: $(cat "$WORK/$n.trunc.out")"
done
grep -q "n_class_left and n_kept agree" "$WORK/pc.layers.out" || fail "$(cat "$WORK/pc.layers.out")"
# best effort (exit 3, the soft-margin network written): rows in neither cone,
# and plot_truncation's class-aware counts still equal /construction's
"$PYTHON" "$here/gen_data.py" "$WORK/be.h5" --kind overlap --m 2 --n 300 --seed 65 > /dev/null
printf '[data]\npath = "be.h5"\n[output]\npath = "be_net.h5"\n[construction]\nmode = "theorem6"\non_inseparable = "best_effort"\n' \
    > "$WORK/be.toml"
rc=0
"${mpiexec_cmd[@]}" -n 1 "$BIN" --quiet "$WORK/be.toml" > "$WORK/be.build.out" 2>&1 || rc=$?
[ "$rc" != 0 ] && [ -s "$WORK/be_net.h5" ] || fail "best effort: exit $rc, $(tail -2 "$WORK/be.build.out")"
"$PYTHON" "$scripts/plot_layers.py" "$WORK/be_net.h5" "$WORK/be_layers.png" > "$WORK/be.layers.out" ||
    fail "plot_layers be: exit $?"
grep -q "rows in neither cone (best effort)" "$WORK/be.layers.out" || fail "$(cat "$WORK/be.layers.out")"
"$PYTHON" "$scripts/plot_truncation.py" "$WORK/be_net.h5" "$WORK/be.h5" "$WORK/be_truncation.png" \
    > "$WORK/be.trunc.out" || fail "plot_truncation be: $(cat "$WORK/be.trunc.out")"
grep -q "cone maps agree with /construction's counts" "$WORK/be.trunc.out" ||
    fail "plot_truncation be: $(cat "$WORK/be.trunc.out")"
# past 1.8 GiB the tensors go to OUT.data; the same path, forced, on a small net
mkdir "$WORK/ext"
"$PYTHON" "$scripts/export_network.py" "$WORK/pc_net.h5" "$WORK/ext/pc.onnx" --external-data \
    > "$WORK/pcx.onnx.out" || fail "export pc --external-data: exit $?"
[ -s "$WORK/ext/pc.onnx.data" ] || fail "no external data file"

"$PYTHON" - "$WORK" "$scripts" <<'EOF' || fail "exported networks differ from the HDF5 ones"
import os, sys
work, scripts = sys.argv[1], sys.argv[2]
sys.path.insert(0, scripts)
import h5py
import numpy as np
import onnx
import torch
from export_network import load_npz, forward_npz, load_trunc_dist, onnx_run_numpy, onnx_initializers

try:
    import onnxruntime
except ImportError:
    onnxruntime = None
    print("export: onnxruntime not installed (no Debian package): ONNX Runtime part skipped")

bad = []
def check(cond, msg):
    if not cond:
        bad.append(msg)
        print(f"export: FAIL: {msg}")

for name in ("t6", "pc", "po", "hd", "cl"):
    with h5py.File(f"{work}/{name}_net.h5", "r") as f, h5py.File(f"{work}/{name}.h5", "r") as d:
        g = f["network"]
        L = int(g.attrs["num_layers"])
        Ws = [g[f"layer_{l}/weight"][...] for l in range(1, L + 1)]
        bs = [g[f"layer_{l}/bias"][...] for l in range(1, L + 1)]
        labels, T = g["label_values"][...], g["targets"][...]
        X, y = d["X"][...].astype(np.float64), d["y"][...].astype(np.int64)
    # the reference: the HDF5 layers, plain NumPy
    a = X
    for l in range(L):
        a = a @ Ws[l].T + bs[l]
        if l < L - 1:
            a = np.maximum(a, 0.0)
    ref = a
    tol = 1e-12 * max(1.0, float(np.abs(ref).max()))

    def nearest(out):
        return labels[np.argmin(((out[:, None, :] - T[None]) ** 2).sum(-1), axis=1)]
    check(np.array_equal(nearest(ref), y), f"{name}: the HDF5 network is not zero loss")

    outs = {}
    net = load_npz(f"{work}/{name}.npz")
    check(len(net["weights"]) == L and all(np.array_equal(u, v) and u.dtype == np.float64
          for u, v in zip(net["weights"] + net["biases"], Ws + bs)),
          f"{name}.npz: weights differ from /network")
    check(np.array_equal(net["label_values"], labels) and np.array_equal(net["targets"], T),
          f"{name}.npz: labels or targets differ")
    z = np.load(f"{work}/{name}.npz")
    lw = [k for k in sorted(z.files) if k.endswith("_weight")]
    check(lw == [f"layer_{l:03d}_weight" for l in range(1, L + 1)],
          f"{name}.npz: layer names not in order: {lw[:4]}")
    check(str(z["activation_rule"]) == "relu after every layer except the last",
          f"{name}.npz: activation_rule {z['activation_rule']}")
    outs["npz"] = forward_npz(net, X)

    model, lab, tt = load_trunc_dist(f"{work}/{name}.pt")
    kinds = [type(m).__name__ for m in model]
    check(isinstance(model, torch.nn.Sequential)
          and kinds == ["Linear", "ReLU"] * (L - 1) + ["Linear"]
          and all(p.dtype == torch.float64 for p in model.parameters()),
          f"{name}.pt: not a float64 Sequential of Linear+ReLU: {kinds[:5]}")
    with torch.no_grad():
        outs["pt"] = model(torch.from_numpy(X)).numpy()
    check(np.array_equal(lab.numpy()[outs["pt"].argmax(1)], y), f"{name}.pt: labels wrong")

    for tag, path in (("onnx", f"{work}/{name}.onnx"),) + (
            (("onnx-external", f"{work}/ext/pc.onnx"),) if name == "pc" else ()):
        onnx.checker.check_model(path)
        _, arrs = onnx_initializers(path)
        check(all(np.array_equal(arrs[f"layer_{l}.weight"], Ws[l - 1]) and
                  np.array_equal(arrs[f"layer_{l}.bias"], bs[l - 1]) for l in range(1, L + 1)),
              f"{name} {tag}: initializers differ from /network")
        r = onnx_run_numpy(path, X)
        outs[tag] = r["output"]
        check(np.array_equal(r["label"], y), f"{name} {tag}: label output wrong")
        if onnxruntime is not None:
            s = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
            o, lbl = s.run(None, {"input": X})
            outs[tag + "+ort"] = o
            check(np.array_equal(lbl, y), f"{name} {tag}: onnxruntime labels wrong")

    for k, o in outs.items():
        diff = float(np.abs(o - ref).max())
        check(o.shape == ref.shape and diff <= tol,
              f"{name}.{k}: max |out - HDF5| = {diff:.3e} > {tol:.1e}")
        check(np.array_equal(nearest(o), y), f"{name}.{k}: not zero loss")
    print(f"export: {name}: L={L} N={len(y)} " + ", ".join(
        f"{k} {float(np.abs(o - ref).max()):.1e}" for k, o in outs.items())
        + " (max |out - HDF5|), zero loss in all")
sys.exit(1 if bad else 0)
EOF

for n in t6 pc po hd cl be; do
    for p in layers truncation; do
        f="$WORK/${n}_$p.png"
        [ -s "$f" ] && [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] ||
            fail "$f: not a PNG"
        [ "$(stat -c %s "$f")" -gt 10000 ] || fail "$f: only $(stat -c %s "$f") bytes"
    done
done

# bad NAME WANT CMD...: exit 2, stderr one line containing WANT, stdout empty
bad() {
    local name=$1 want=$2 rc=0
    shift 2
    "$@" > "$WORK/$name.bad.out" 2> "$WORK/$name.bad.err" || rc=$?
    [ "$rc" = 2 ] || fail "$name: exit $rc, expected 2: $(cat "$WORK/$name.bad.err")"
    [ "$(wc -l < "$WORK/$name.bad.err")" = 1 ] || fail "$name: not one line: $(cat "$WORK/$name.bad.err")"
    grep -q -F -- "$want" "$WORK/$name.bad.err" || fail "$name: $(cat "$WORK/$name.bad.err")"
    [ ! -s "$WORK/$name.bad.out" ] || fail "$name: wrote to stdout"
}
E=("$PYTHON" "$scripts/export_network.py")
bad data_as_net "t6.h5: not a trunc-dist result" "${E[@]}" "$WORK/t6.h5" "$WORK/x.npz"
bad unknown_ext "x.txt: unknown extension '.txt'" "${E[@]}" "$WORK/t6_net.h5" "$WORK/x.txt"
bad not_hdf5 "t6.toml: cannot open: not an HDF5 file" "${E[@]}" "$WORK/t6.toml" "$WORK/x.pt"
bad missing "nope.h5: cannot open: No such file" "${E[@]}" "$WORK/nope.h5" "$WORK/x.onnx"
bad exists "t6.npz: exists (--force replaces it)" "${E[@]}" "$WORK/t6_net.h5" "$WORK/t6.npz"
bad layers_data "t6.h5: not a trunc-dist result" \
    "$PYTHON" "$scripts/plot_layers.py" "$WORK/t6.h5" "$WORK/x.png"
bad layers_jpg "x.jpg: the picture is written as PNG" \
    "$PYTHON" "$scripts/plot_layers.py" "$WORK/t6_net.h5" "$WORK/x.jpg"
bad trunc_features "hd.h5: 6 features, the network takes 2" \
    "$PYTHON" "$scripts/plot_truncation.py" "$WORK/t6_net.h5" "$WORK/hd.h5" "$WORK/x.png"
bad trunc_data "pc.h5: not a trunc-dist result" \
    "$PYTHON" "$scripts/plot_truncation.py" "$WORK/pc.h5" "$WORK/pc.h5" "$WORK/x.png"
for f in x.npz x.txt x.pt x.onnx x.png x.jpg; do
    [ ! -e "$WORK/$f" ] || fail "$f was created"
done
[ -z "$(find "$WORK" -name '*.tmp*')" ] || fail "temporary files left: $(find "$WORK" -name '*.tmp*')"
echo "export: ok"
