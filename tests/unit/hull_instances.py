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
