#!/usr/bin/python3
"""Independent check of a trunc-dist result: a plain NumPy forward pass of
the stored layers over the training data.  No trunc-dist code is involved;
only the documented file layout is read.

    check_network.py NETWORK.h5 TRAIN.h5 [--tol 1e-8] [--x X] [--y y]
                     [--hidden-width W] [--run-layout NP,BLOCK_ROWS]
                     [--targets-from FILE:DATASET | --targets-npy FILE]
                     [--targets-source SOURCE]

Checks
  * /network attrs: activation == "relu"; num_layers == Q + 1 plus one
    per reset layer (a lifted result, /construction attr `construction`
    "lifted" or "pieces": one cone per row of /construction/order_labels,
    of width /construction attr `width`, M + Q; "clustered": Q cones of
    width Q, the first reading the M inputs; "polytope": exactly the
    kinds "facets" (width /construction attr `width`, the number of
    facets), "indicator" (width 1), "output", and with /construction attr
    output_layer "linear" or "neural_collapse" a second "indicator" of
    width 2 before the output): layer_l attr `kind` is
    "cone" (Q of them), "reset"
    (only right after a cone that another cone follows) or "output" (the
    last); a file without `kind` attrs must have exactly Q + 1 layers;
  * /network/label_values: int, strictly increasing, exactly the distinct
    labels of y; /network/targets: (Q, Q), exactly the intended targets:
    the identity (one-hot row j for label_values[j]) unless given with
    --targets-from (an HDF5 dataset, any numeric type) or --targets-npy,
    and the outputs are compared with the *intended* targets, not only
    with what the file claims; with --targets-source, the root attribute
    targets_source equals it (one_hot, config, dataset:NAME);
  * layer_l/weight (d_l, d_{l-1}) float64, layer_l/bias (d_l,) float64, all
    finite, d_0 = M, d_L = Q, cone widths = M (or --hidden-width), reset
    widths twice that;
  * forward pass x -> relu(W_l x + b_l) (no relu after the last layer), in
    float64: max |out - target| <= tol x max(1, max |target|) (trunc-dist's
    verify.tolerance is relative to that scale) and every point's nearest
    target is its own label (accuracy 1.0);
  * when present, /verification attrs agree: n_points == N, n_correct == N,
    max_error <= tol, cost consistent with ours;
  * with --run-layout: /run records nranks == NP and block_rows == BLOCK_ROWS
    (the run used the layout the test asked for; row_spread.py).

Prints one summary line and exits 0, or prints each problem and exits 1.
"""
import argparse
import sys

import h5py
import numpy as np

CHUNK = 1 << 16


def as_str(v):
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray) and v.shape == ():
        return as_str(v[()])
    return str(v)


def lifted_shape(f):
    """(cones, hidden width) a lifted result declares in /construction, or
    None for Theorem 6 (Q cones of width M)."""
    c = f.get("construction")
    if c is None or as_str(c.attrs.get("construction", "theorem6")) == "theorem6":
        return None
    if as_str(c.attrs["construction"]) == "polytope":
        return "polytope", int(c.attrs["width"])
    return c["order_labels"].shape[0], int(c.attrs["width"])


def output_kind(f):
    """/construction attr output_layer ("affine" when absent: older files)."""
    c = f.get("construction")
    return as_str(c.attrs.get("output_layer", "affine")) if c is not None else "affine"


def layer_kinds(g, L, q, fail):
    """The kind of every layer (see the docstring), or None after fail()."""
    names = [f"layer_{l}" for l in range(1, L + 1)]
    if not all(n in g for n in names):
        fail(f"num_layers = {L} but a layer_<l> group is missing")
        return None
    if not any("kind" in g[n].attrs for n in names):
        if q == "polytope":
            fail("a polytope result without layer kinds")
            return None
        if L != q + 1:                       # a file from before resets
            fail(f"num_layers = {L}, expected Q + 1 = {q + 1}")
            return None
        return ["cone"] * q + ["output"]
    kinds = [as_str(g[n].attrs.get("kind", "")) for n in names]
    if q == "polytope":
        want = ["facets", "indicator", "output"]
        if output_kind(g.file) != "affine":
            want = ["facets", "indicator", "indicator", "output"]
        if kinds != want:
            fail(f"layer kinds {kinds}: a polytope result with "
                 f"output_layer '{output_kind(g.file)}' has exactly {want}")
            return None
        return kinds
    ok = (kinds.count("cone") == q and kinds[-1] == "output"
          and kinds.count("output") == 1
          and set(kinds) <= {"cone", "reset", "output"}
          and all(k != "reset" or (i > 0 and kinds[i - 1] == "cone"
                                   and kinds[i + 1] == "cone")
                  for i, k in enumerate(kinds)))
    if not ok:
        fail(f"layer kinds {kinds}: expected {q} cones, resets only between "
             f"two cones, one output layer last")
        return None
    return kinds


def intended_targets(a, q):
    """The targets the run was asked for, as float64: one-hot by default."""
    if a.targets_npy:
        return np.load(a.targets_npy).astype(np.float64)
    if a.targets_from:
        path, _, name = a.targets_from.rpartition(":")
        with h5py.File(path, "r") as f:
            return f[name][...].astype(np.float64)
    return np.eye(q)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("network")
    ap.add_argument("train")
    ap.add_argument("--tol", type=float, default=1e-8)
    ap.add_argument("--x", default="X")
    ap.add_argument("--y", default="y")
    ap.add_argument("--hidden-width", type=int, default=None,
                    help="expected width of the hidden layers (default M)")
    ap.add_argument("--run-layout", default=None, metavar="NP,BLOCK_ROWS",
                    help="expected /run nranks and block_rows")
    ap.add_argument("--targets-from", default=None, metavar="FILE:DATASET",
                    help="the intended targets (Q, Q), from an HDF5 dataset")
    ap.add_argument("--targets-npy", default=None, metavar="FILE",
                    help="the intended targets (Q, Q), from a .npy file")
    ap.add_argument("--targets-source", default=None,
                    help="expected root attribute targets_source")
    a = ap.parse_args(argv)
    if a.targets_from and a.targets_npy:
        ap.error("give --targets-from or --targets-npy, not both")
    layout = None
    if a.run_layout:
        layout = [int(t) for t in a.run_layout.split(",")]
        if len(layout) != 2:
            ap.error("--run-layout needs NP,BLOCK_ROWS")

    problems = []

    def fail(msg):
        problems.append(msg)

    def finish():
        for p in problems:
            print(f"check_network: FAIL: {p}")
        return 1

    try:
        net = h5py.File(a.network, "r")
    except OSError as e:
        print(f"check_network: FAIL: cannot open {a.network}: {e}")
        return 1
    try:
        tr = h5py.File(a.train, "r")
    except OSError as e:
        print(f"check_network: FAIL: cannot open {a.train}: {e}")
        return 1

    with net, tr:
        if "network" not in net:
            fail("no /network group")
            return finish()
        g = net["network"]
        dx, dy = tr[a.x], tr[a.y]
        if dx.ndim != 2 or dy.ndim != 1 or dx.shape[0] != dy.shape[0]:
            fail(f"training data shapes X{dx.shape} y{dy.shape}")
            return finish()
        if dy.dtype.kind not in "iu":
            fail(f"y has non-integer type {dy.dtype}")
            return finish()
        n, m = dx.shape
        y = dy[...].astype(np.int64)

        # --- header -----------------------------------------------------
        if "num_layers" not in g.attrs:
            fail("/network has no num_layers attribute")
            return finish()
        L = int(g.attrs["num_layers"])
        act = as_str(g.attrs.get("activation", ""))
        if act != "relu":
            fail(f"activation is {act!r}, expected 'relu'")
        if "label_values" not in g or "targets" not in g:
            fail("/network/label_values or /network/targets missing")
            return finish()
        lv = g["label_values"]
        if lv.dtype.kind not in "iu" or lv.ndim != 1:
            fail(f"label_values has type {lv.dtype}, shape {lv.shape}")
            return finish()
        labels = lv[...].astype(np.int64)
        q = labels.size
        distinct = np.unique(y)
        if not np.array_equal(labels, distinct):
            fail(f"label_values {labels.tolist()} are not the sorted distinct "
                 f"labels of y {distinct.tolist()}")
            return finish()
        T = g["targets"][...]
        if g["targets"].dtype != np.float64 or T.shape != (q, q):
            fail(f"targets: dtype {g['targets'].dtype}, shape {T.shape}, "
                 f"expected float64 ({q}, {q})")
            return finish()
        want = intended_targets(a, q)
        if want.shape != (q, q):
            fail(f"the intended targets have shape {want.shape}, Q = {q}")
            return finish()
        if not np.array_equal(T, want):
            fail("/network/targets are not the intended targets"
                 + (" (one-hot identity)" if not (a.targets_from or
                                                  a.targets_npy) else ""))
        T = want             # the outputs must reach what was asked for
        if a.targets_source is not None:
            src = as_str(net.attrs.get("targets_source", "<absent>"))
            if src != a.targets_source:
                fail(f"root attribute targets_source = {src!r}, expected "
                     f"{a.targets_source!r}")
        tol = a.tol * max(1.0, float(np.abs(T).max()))
        lifted = lifted_shape(net)
        kinds = layer_kinds(g, L, lifted[0] if lifted else q, fail)
        if kinds is None:
            return finish()

        # --- layers -----------------------------------------------------
        hidden = m if not lifted else lifted[1]
        hidden = hidden if a.hidden_width is None else a.hidden_width
        width = {"cone": hidden, "reset": 2 * hidden, "output": q,
                 "facets": hidden, "indicator": 1}
        Ws, bs = [], []
        d_prev = m
        for l in range(1, L + 1):
            name = f"layer_{l}"
            if l > 2 and kinds[l - 1] == "indicator":   # polytope: (u, 1 - u)
                width["indicator"] = 2
            if name not in g or "weight" not in g[name] or "bias" not in g[name]:
                fail(f"/network/{name}/weight or bias missing")
                return finish()
            W, b = g[name]["weight"], g[name]["bias"]
            want = width[kinds[l - 1]]
            if W.dtype != np.float64 or b.dtype != np.float64:
                fail(f"{name}: dtypes {W.dtype}, {b.dtype}, expected float64")
            if W.shape != (want, d_prev) or b.shape != (want,):
                fail(f"{name}: weight {W.shape}, bias {b.shape}, expected "
                     f"({want}, {d_prev}) and ({want},)")
                return finish()
            W, b = W[...].astype(np.float64), b[...].astype(np.float64)
            if not (np.all(np.isfinite(W)) and np.all(np.isfinite(b))):
                fail(f"{name}: non-finite weights or bias")
                return finish()
            Ws.append(W)
            bs.append(b)
            d_prev = want
        extra = [k for k in g.keys() if k.startswith("layer_")
                 and k not in {f"layer_{l}" for l in range(1, L + 1)}]
        if extra:
            fail(f"unexpected groups under /network: {sorted(extra)}")
        if problems:
            return finish()

        # --- forward pass, in chunks ------------------------------------
        idx = np.searchsorted(labels, y)          # label -> output index
        sq = 0.0
        max_err = 0.0
        n_correct = 0
        worst_row = -1
        for s in range(0, n, CHUNK):
            X = dx[s:s + CHUNK].astype(np.float64)
            if not np.all(np.isfinite(X)):
                fail(f"training X has non-finite values in rows {s}..")
                return finish()
            act_ = X
            for l in range(L):
                act_ = act_ @ Ws[l].T + bs[l]
                if l < L - 1:
                    act_ = np.maximum(act_, 0.0)
            k = idx[s:s + CHUNK]
            err = act_ - T[k]
            sq += float(np.sum(err * err))
            e = np.abs(err).max(axis=1)
            if e.max() > max_err:
                max_err = float(e.max())
                worst_row = s + int(np.argmax(e))
            d2 = ((act_[:, None, :] - T[None, :, :]) ** 2).sum(axis=2)
            n_correct += int(np.sum(np.argmin(d2, axis=1) == k))
        cost = 0.5 * sq
        acc = n_correct / n

        # --- how the run was laid out ------------------------------------
        if layout is not None:
            import row_spread        # same directory as this script
            for p in row_spread.run_layout(net, *layout):
                fail(p)

        # --- the program's own report -----------------------------------
        if "verification" in net:
            v = net["verification"].attrs
            if "n_points" in v and int(v["n_points"]) != n:
                fail(f"/verification n_points = {int(v['n_points'])}, data has {n}")
            if "n_correct" in v and int(v["n_correct"]) != n:
                fail(f"/verification n_correct = {int(v['n_correct'])} != N = {n}")
            if "max_error" in v and not float(v["max_error"]) <= tol:
                fail(f"/verification max_error = {float(v['max_error']):.3e} > tol")
            if "cost" in v:
                c = float(v["cost"])
                if not abs(c - cost) <= 1e-12 + 1e-3 * max(c, cost):
                    fail(f"/verification cost = {c:.6e}, independent forward "
                         f"pass gives {cost:.6e}")

    print(f"check_network: N={n} Q={q} M={m} L={L} cost={cost:.3e} "
          f"max_error={max_err:.3e} accuracy={acc:.6f}"
          + (f" (run: np={layout[0]} block_rows={layout[1]})" if layout else ""))
    if max_err > tol:
        fail(f"max |out - target| = {max_err:.3e} > tol {tol:g} "
             f"(row {worst_row}, label {int(y[worst_row])})")
    if n_correct != n:
        fail(f"{n - n_correct} of {n} points are nearest to a wrong target")
    if problems:
        return finish()
    return 0


if __name__ == "__main__":
    sys.exit(main())
