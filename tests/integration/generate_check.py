#!/usr/bin/python3
"""Independent checks of `trunc-dist generate` output (h5py, NumPy, SciPy's
HiGHS LP); no trunc-dist code involved.

    generate_check.py same A.h5 B.h5
        X (dtype, shape and bits), y and every root attribute equal.
    generate_check.py contract DATA.h5 --kind K --n N --m M --q Q
                      [--dtype float32] [--labels-offset K] [--labels-step D]
        the input contract: X (N, M), y (N,) int64, the Q labels
        K + D k, every class with N/Q rows (rounded either way), the
        provenance attributes (format, kind, seed, n, m, q, dtype).
    generate_check.py sls_not_ovr DATA.h5
        an LP proves that the class of the second smallest label (k = 1) is
        not linearly separable from the union of the others (max margin 0),
        and that the first class (k = 0, an end of the line) is.
    generate_check.py not_sls DATA.h5
        no class is linearly separable from the rest (max margin 0 for each):
        no order can start, so the data are not sequentially separable.
    generate_check.py clustered DATA.h5 --ratio R
        Proposition 3 from the data: delta = max |x - mean of its class|,
        xbar = mean of the class means, (18) delta < min_j |mean_j - xbar|/4,
        (20) max_j theta_*j < pi with theta_*j = 2 max_j' (angle(mean_j' -
        mean_j, f_j) + asin(4 delta / |mean_j' - mean_j|)).  R is the
        expected delta / delta_crit (0.5: both hold; 1 + F: the binding
        condition fails by F), checked to 1e-9 (float32 data: 2e-5); the
        attributes must agree.
    generate_check.py gaussian DATA.h5
        blobs: the residuals x - mean of the class, over sigma (attribute),
        are standard normal in every direction (the isometry keeps
        N(0, sigma^2 I)): a Kolmogorov-Smirnov test of all coordinates and
        of a random direction (p > 1e-4), covariance within 5 % of I.
    generate_check.py construction NET.h5 NAME
        the trunc-dist result's /construction attr `construction` is NAME.
Exit 0 with a line saying what was checked, or 1 with the reason.
"""
import sys

import h5py
import numpy as np
from scipy.optimize import linprog


def fail(msg):
    print(f"generate_check: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def load(path):
    with h5py.File(path, "r") as f:
        return f["X"][...].astype(np.float64), f["y"][...], dict(f.attrs)


def same(a, b):
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        xa, xb = fa["X"][...], fb["X"][...]
        if xa.dtype != xb.dtype or xa.shape != xb.shape:
            fail(f"{a} vs {b}: X {xa.dtype}{xa.shape} vs {xb.dtype}{xb.shape}")
        if xa.tobytes() != xb.tobytes():
            fail(f"{a} vs {b}: X differs in {np.sum(xa != xb)} values")
        if fa["y"][...].tobytes() != fb["y"][...].tobytes():
            fail(f"{a} vs {b}: y differs")
        ka, kb = dict(fa.attrs), dict(fb.attrs)
        if sorted(ka) != sorted(kb):
            fail(f"attributes {sorted(ka)} vs {sorted(kb)}")
        for k in ka:
            if np.asarray(ka[k]).tobytes() != np.asarray(kb[k]).tobytes():
                fail(f"attribute {k}: {ka[k]!r} vs {kb[k]!r}")
        print(f"same: {a} and {b}: X {xa.dtype}{xa.shape}, y and "
              f"{len(ka)} attributes identical")


def opt(argv, name, default=None, conv=str):
    return conv(argv[argv.index(name) + 1]) if name in argv else default


def contract(path, argv):
    kind = opt(argv, "--kind")
    n, m, q = (opt(argv, f"--{c}", conv=int) for c in "nmq")
    dtype = opt(argv, "--dtype", "float64")
    off = opt(argv, "--labels-offset", 0, int)
    step = opt(argv, "--labels-step", 1, int)
    with h5py.File(path, "r") as f:
        X, y = f["X"], f["y"]
        if X.shape != (n, m) or X.dtype != np.dtype(dtype):
            fail(f"{path}: X {X.dtype}{X.shape}, expected {dtype}({n}, {m})")
        if y.shape != (n,) or y.dtype != np.int64:
            fail(f"{path}: y {y.dtype}{y.shape}, expected int64({n},)")
        x = X[...]
        if not np.all(np.isfinite(x)):
            fail(f"{path}: non-finite X")
        labels, counts = np.unique(y[...], return_counts=True)
        want = np.sort(off + step * np.arange(q))
        if not np.array_equal(labels, want):
            fail(f"{path}: labels {labels}, expected {want}")
        if counts.min() < n // q or counts.max() > -(-n // q):
            fail(f"{path}: class counts {counts} for N = {n}, Q = {q}")
        a = f.attrs
        for k, v in (("format", "trunc-dist generate 1"), ("kind", kind),
                     ("dtype", dtype)):
            got = a[k].decode() if isinstance(a[k], bytes) else str(a[k])
            if got != v:
                fail(f"{path}: attribute {k} = {got!r}, expected {v!r}")
        for k, v in (("n", n), ("m", m), ("q", q), ("label_offset", off),
                     ("label_step", step)):
            if int(a[k]) != v:
                fail(f"{path}: attribute {k} = {a[k]}, expected {v}")
        if "seed" not in a or "command" not in a or "description" not in a:
            fail(f"{path}: provenance attributes missing")
    print(f"contract: {path}: {kind} X {dtype}({n}, {m}), y int64, labels "
          f"{want.tolist()}, counts {counts.min()}..{counts.max()}")


def max_margin(x, inside):
    """Largest t with w.x - b >= t on `inside`, <= -t elsewhere, |w|_inf <=
    1, t <= 1 (HiGHS): > 0 iff strictly separable."""
    x = x - x.mean(axis=0)
    n, m = x.shape
    s = np.where(inside, -1.0, 1.0)
    # variables w (m), b, t: s (w.x - b) + t <= 0
    a = np.hstack([s[:, None] * x, -s[:, None], np.ones((n, 1))])
    c = np.zeros(m + 2)
    c[-1] = -1
    bounds = [(-1, 1)] * m + [(None, None), (None, 1)]
    r = linprog(c, A_ub=a, b_ub=np.zeros(n), bounds=bounds, method="highs")
    if r.status != 0:
        fail(f"LP status {r.status}: {r.message}")
    return -r.fun


def ovr_margins(x, y):
    return {int(l): max_margin(x, y == l) for l in np.unique(y)}


def sls_not_ovr(path):
    x, y, _ = load(path)
    labels = np.unique(y)
    t = ovr_margins(x, y)
    inner, end = int(labels[1]), int(labels[0])
    scale = np.abs(x - x.mean(0)).max()
    if not t[inner] <= 1e-9 * scale:
        fail(f"{path}: class {inner} separates from the rest (margin "
             f"{t[inner]:.3g}); expected it in the hull of the others")
    if not t[end] > 1e-3:
        fail(f"{path}: end class {end} does not separate (margin {t[end]:.3g})")
    print(f"sls_not_ovr: {path}: one-vs-rest LP margins (|w|_inf <= 1) "
          + ", ".join(f"{k}: {v + 0.0:.3g}" for k, v in t.items())
          + f"; class {inner} is not separable from the rest, class {end} is")


def not_sls(path):
    x, y, _ = load(path)
    t = ovr_margins(x, y)
    scale = np.abs(x - x.mean(0)).max()
    sep = [k for k, v in t.items() if not v <= 1e-9 * scale]
    if sep:
        fail(f"{path}: classes {sep} separate from the rest: {t}")
    print(f"not_sls: {path}: no class separates from the rest (LP margins "
          f"<= {max(t.values()) + 0.0:.2g}): no first layer, not sequentially "
          f"separable")


def clustered(path, ratio):
    x, y, a = load(path)
    # float32 storage rounds each value: relative 6e-8 of the data's scale
    tol = 1e-9 if a["dtype"] in (b"float64", "float64") else 2e-5
    labels = np.unique(y)
    means = np.array([x[y == l].mean(axis=0) for l in labels])
    idx = np.searchsorted(labels, y)
    delta = np.linalg.norm(x - means[idx], axis=1).max()
    xbar = means.mean(axis=0)
    r = np.linalg.norm(means - xbar, axis=1)
    f = (xbar - means) / r[:, None]
    q = len(labels)
    proj, theta = np.inf, 0.0
    for j in range(q):
        for k in range(q):
            if k == j:
                continue
            d = means[k] - means[j]
            dn = np.linalg.norm(d)
            proj = min(proj, d @ f[j])
            ang = np.arccos(np.clip(d @ f[j] / dn, -1, 1))
            half = ang + (np.arcsin(4 * delta / dn) if 4 * delta < dn
                          else np.pi)
            theta = max(theta, 2 * half)
    b18, b20 = r.min() / 4, proj / 4
    crit = min(b18, b20)
    holds18, holds20 = delta < b18, theta < np.pi
    if holds20 != (delta < b20):
        fail(f"{path}: the cone angle {theta:.6f} and the projection bound "
             f"{b20:.6f} disagree about (20) at delta {delta:.6f}")
    for k, v in (("delta", delta), ("prop3_bound18", b18),
                 ("prop3_bound20", b20), ("delta_crit", crit)):
        if abs(float(a[k]) - v) > tol * v:
            fail(f"{path}: attribute {k} = {float(a[k])!r}, the data give {v!r}")
    got = delta / crit
    if abs(got - ratio) > tol:
        fail(f"{path}: delta / delta_crit = {got:.12f}, expected {ratio}")
    binding = 18 if b18 <= b20 else 20
    if int(a["prop3_binding"]) != binding:
        fail(f"{path}: binding condition ({a['prop3_binding']}), data: "
             f"({binding})")
    if ratio < 1 and not (holds18 and holds20):
        fail(f"{path}: Proposition 3 should hold: (18) {holds18}, (20) "
             f"{holds20}")
    if ratio > 1 and (holds18 if binding == 18 else holds20):
        fail(f"{path}: condition ({binding}) should fail")
    print(f"clustered: {path}: delta {delta:.9g}, r_min/4 {b18:.9g} (18 "
          f"{'holds' if holds18 else 'fails'}), proj_min/4 {b20:.9g}, "
          f"max theta_* {theta:.6f} (20 {'holds' if holds20 else 'fails'}); "
          f"delta / delta_crit = {got:.9f} ({binding} binds)")


def gaussian(path):
    from scipy.stats import kstest
    x, y, a = load(path)
    labels = np.unique(y)
    idx = np.searchsorted(labels, y)
    means = np.array([x[y == l].mean(axis=0) for l in labels])
    z = (x - means[idx]) / float(a["sigma"])
    p_all = kstest(z.ravel(), "norm").pvalue
    d = np.random.default_rng(0).standard_normal(x.shape[1])
    p_dir = kstest(z @ (d / np.linalg.norm(d)), "norm").pvalue
    cov = np.cov(z.T)
    dev = np.abs(cov - np.eye(x.shape[1])).max()
    if p_all < 1e-4 or p_dir < 1e-4 or dev > 0.05:
        fail(f"{path}: residuals not N(0, I): KS p {p_all:.3g} (all), "
             f"{p_dir:.3g} (a direction), covariance off by {dev:.3g}")
    print(f"gaussian: {path}: {z.size} residuals / sigma: KS p = {p_all:.3g}, "
          f"along a random direction {p_dir:.3g}, covariance within "
          f"{dev:.3f} of I")


def construction(net, name):
    with h5py.File(net, "r") as f:
        got = f["construction"].attrs["construction"]
        got = got.decode() if isinstance(got, bytes) else str(got)
    if got != name:
        fail(f"{net}: construction {got!r}, expected {name!r}")
    print(f"construction: {net}: {got}")


def main(argv):
    if len(argv) < 3:
        fail(__doc__)
    cmd, path = argv[1], argv[2]
    if cmd == "same":
        same(path, argv[3])
    elif cmd == "contract":
        contract(path, argv[3:])
    elif cmd == "sls_not_ovr":
        sls_not_ovr(path)
    elif cmd == "not_sls":
        not_sls(path)
    elif cmd == "clustered":
        clustered(path, float(opt(argv, "--ratio")))
    elif cmd == "gaussian":
        gaussian(path)
    elif cmd == "construction":
        construction(path, argv[3])
    else:
        fail(f"unknown check {cmd}")


if __name__ == "__main__":
    main(sys.argv)
