"""Instances for the hull solver and the driver's file format.

Shared by hull_reference.py (the independent check run by ctest) and
scripts/bench_hull (timings).  Every generator is seeded, so an instance is
reproducible from its name and seed."""
import os
import struct
import subprocess
import tempfile

import numpy as np


def write_instance(path, A, B, gap=1e-3, meet_tol=1e-10, max_iter=0,
                   prefix=(0, 0)):
    A = np.ascontiguousarray(A, dtype="<f8")
    B = np.ascontiguousarray(B, dtype="<f8")
    m = A.shape[1]
    with open(path, "wb") as f:
        f.write(struct.pack("<5i", m, len(A), len(B), *prefix))
        f.write(struct.pack("<2dq", gap, meet_tol, max_iter))
        f.write(A.tobytes())
        f.write(B.tobytes())


def read_result(path, m, na, nb):
    with open(path, "rb") as f:
        raw = f.read()
    rc, conv, iters = struct.unpack_from("<2iq", raw, 0)
    dist, lower, scale, wall, cpu = struct.unpack_from("<5d", raw, 16)
    rest = np.frombuffer(raw, dtype="<f8", offset=56)
    assert len(rest) == 2 * m + na + nb, "result file has the wrong length"
    return dict(rc=rc, converged=conv, iters=iters, dist=dist, lower=lower,
                scale=scale, wall=wall, cpu=cpu, u=rest[:m], v=rest[m:2 * m],
                alpha=rest[2 * m:2 * m + na], beta=rest[2 * m + na:])


def solve(driver, A, B, timeout=120, **kw):
    """Run the C driver on (A, B); returns the result dictionary."""
    with tempfile.TemporaryDirectory() as d:
        fin, fout = os.path.join(d, "in.bin"), os.path.join(d, "out.bin")
        write_instance(fin, A, B, **kw)
        p = subprocess.run([driver, fin, fout], capture_output=True,
                           text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"driver failed ({p.returncode}): {p.stderr}")
        return read_result(fout, A.shape[1], len(A), len(B))


# ---- generators: each returns (A, B) ------------------------------------

def breast_cancer():
    from sklearn.datasets import load_breast_cancer
    X, y = load_breast_cancer(return_X_y=True)
    return X[y == 0], X[y == 1]


def digits_one_vs_rest(c=8):
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    return X[y == c], X[y != c]


def gaussian_meet(n, m, seed):
    """Two clouds from one distribution: with n >> m the origin is deep
    inside the difference polytope (the corral must reach rank + 1)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, m)), rng.standard_normal((n, m))


def tight(n, m, margin, seed, rank=None, pairs=8, dup=0, const_cols=0,
          feat_scale=0.0, offset=0.0):
    """Two classes at distance exactly `margin` times the spread (the
    largest in-plane norm): `pairs` points a_t = p_t - gap/2 w, b_t = p_t + gap/2 w share
    their in-plane part p_t, every other point lies beyond its class's
    supporting hyperplane.  Points span an affine subspace of dimension
    `rank` (default all), in-plane coordinates are scaled per feature by
    10^U(-feat_scale, feat_scale), `const_cols` columns are constant,
    `dup` rows per class are copies, everything is shifted by `offset`.
    Returns (A, B, (L, U)): L the margin of w and U the shortest pair,
    both recomputed in extended precision from the stored points, so
    L <= hull distance <= U."""
    rng = np.random.default_rng(seed)
    me = m - const_cols
    r = min(rank or me, me)
    basis = np.linalg.qr(rng.standard_normal((me, r)))[0]
    w = basis[:, 0]
    fs = 10.0 ** rng.uniform(-feat_scale, feat_scale, me)
    def inplane(k):
        P = (rng.standard_normal((k, r)) @ basis.T) * fs
        P = P @ basis @ basis.T               # back into the subspace
        return P - np.outer(P @ w, w)
    PA, PB = inplane(n), inplane(n)
    spread = max(np.linalg.norm(PA, axis=1).max(), 1.0)
    gap = margin * spread
    def side(P, sign):
        depth = 0.5 * gap + spread * np.abs(rng.standard_normal(n))
        depth[:pairs] = 0.5 * gap
        return P + sign * np.outer(depth, w)
    A, B = side(PA, -1.0), side(PB, 1.0)
    B[:pairs] = A[:pairs] + gap * w           # the pairs share p_t
    X = []
    for Y in (A, B):
        Z = np.full((n, m), 1.0 + offset)
        Z[:, const_cols:] = Y + offset
        if dup:
            Z[n - dup:] = Z[rng.integers(0, n - dup, dup)]
        X.append(Z)
    wf = np.zeros(m)
    wf[const_cols:] = w
    return X[0], X[1], bracket(X[0], X[1], wf, pairs)


def bracket(A, B, w, pairs):
    """Extended-precision bounds on the hull distance: the margin of w and
    the shortest of the first `pairs` differences b_t - a_t."""
    ld = np.longdouble
    c = A[0].astype(ld)
    Al, Bl, wl = A.astype(ld) - c, B.astype(ld) - c, w.astype(ld)
    wl /= np.sqrt((wl * wl).sum())
    lower = (Bl @ wl).min() - (Al @ wl).max()
    D = Bl[:pairs] - Al[:pairs]
    upper = np.sqrt((D * D).sum(axis=1)).min()
    return float(lower), float(upper)


def gaussian_pair(n, m, shift, seed):
    """Small Gaussian clouds shifted apart along a random direction."""
    rng = np.random.default_rng(seed)
    d = rng.standard_normal(m)
    d *= shift / np.linalg.norm(d)
    return (rng.standard_normal((n, m)) - d / 2,
            rng.standard_normal((n + 3, m)) + d / 2)


def slab(n, m, margin, seed, rank=None, dup=0, on_margin=0, const_cols=0,
         spread=1.0, offset=0.0):
    """Two classes either side of a random hyperplane at distance `margin`
    (times the spread): points on an affine subspace of dimension `rank`
    (default m), `on_margin` points of each class exactly on the supporting
    hyperplanes, `dup` duplicated points per class, `const_cols` constant
    columns, everything shifted by `offset` (rounding away from 0)."""
    rng = np.random.default_rng(seed)
    me = m - const_cols
    r = min(rank or me, me)
    basis = np.linalg.qr(rng.standard_normal((me, r)))[0]     # me x r
    def side(sign):
        Y = rng.standard_normal((n, r)) * spread
        Y[:, 0] = sign * (0.5 * margin * spread + np.abs(Y[:, 0]))
        Y[:on_margin, 0] = sign * 0.5 * margin * spread
        X = np.full((n, m), 1.0)
        X[:, const_cols:] = Y @ basis.T
        X += offset
        if dup:
            X[n - dup:] = X[rng.integers(0, n - dup, dup)]
        return X
    return side(-1.0), side(1.0)
