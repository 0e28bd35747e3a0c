#!/usr/bin/python3
"""piece_lab.py -- research prototype: how should trunc-dist cut "pieces"?

What it measures (see MATH.md, "Pieces"): the combinatorial part of the piece
construction only, no network is built.  R = all points.  Repeat: choose a
class c and a unit direction w; r0 = min over remaining points of OTHER classes
of <w,x>; the piece S = remaining points of class c with <w,x> < r0 (strictly);
require |S| >= 1 and remove S.  Stop when one class is left (it needs no layer).
If no candidate direction gives a non-empty piece, cut one extreme point
(vertex fallback: argmax <v,x> for a random v, cut with w = v reversed).

For each strategy x dataset it reports
  layers     number of pieces (= hidden layers of the network)
  seconds    wall time of the greedy loop (one thread); 'cpu' at the end of
             the line is its process CPU time (robust on a loaded machine)
  minmargin  min over layers of (r0 - max_S <w,x>)/2 / radius, |w| = 1,
             radius = max_i |x_i - mean| of the training data
  medmargin  median of the same per-layer relative margins
  vtx        number of vertex-fallback layers
  test acc   test point -> class of the first layer whose halfspace
             <w,x> < (r0 + max_S <w,x>)/2 contains it, else the last class
             (mimics what the network does)
  big3       sizes of the first three pieces, and pieces of size 1

Strategies (--strategy, comma separated; candidates always in both
orientations w and -w, every remaining class evaluated, largest piece wins,
ties -> larger margin):
  meandiff  w_c = mu_rest - mu_c
  fisher    w_c = (S_W + lam I)^-1 (mu_rest - mu_c), S_W pooled within-class
            scatter of the remaining points (Gram downdate, no refit), for
            lam = reg * tr(S_W)/M with reg in --fisher-regs, plus meandiff
  svm       LinearSVC one-vs-rest per class (squared hinge, C=--C) on the
            remaining points; lazy: only the class just cut is refitted,
            other classes keep their cached direction (their pieces can only
            grow), all classes refitted every --refresh steps
  logreg    multinomial LogisticRegression (warm started), w_c = -coef_c
  cost      "pure piece" LinearSVC: class c vs rest with sample weight
            --cost-weight on the rest (rest must stay on its side); lazy
  fisher+cost  union of fisher and cost candidates
Modifiers (suffix):
  +grow     after choosing (c, w, S): --grow-rounds rounds of weighted
            re-solve (LinearSVC, S and rest weighted --cost-weight, the other
            points of class c weight 1, so the fit tries to pull them in),
            re-threshold, keep if the piece grew (or same size, larger margin)
  +rand     also evaluate --n-random random unit directions per step (useful
            in low dimension)
  +hard     polish the final w of each layer with a (near) hard-margin SVM of S
            vs the nearest rest points, re-threshold (piece can only grow
            if separation holds; kept only if not smaller); raises margins

Findings (Fashion-MNIST; numbers from a loaded 2-core machine): soft-margin
one-vs-rest SVM / logistic / mean-difference directions stall into vertex
cuts; Fisher (regularisation grid) + re-solve is the winner; "+grow+hard"
with --hard-rounds 3 gave the fewest layers (fashion10k: 27), "fisher+hard"
--hard-rounds 3 is the cheap variant (31).  --margin-floor 1e-4 costs ~0 layers.

Examples:
  scripts/piece_lab.py --data fashion3k --strategy fisher,svm
  scripts/piece_lab.py --data fashion10k --strategy fisher+hard --hard-rounds 3 --margin-floor 1e-4
  scripts/piece_lab.py --data fashion10k,digits,rand2,rand10 --strategy all
Datasets: fashion3k (first 3000 of fashion_10k), fashion10k, fashion60k
(HDF5 at /tmp/td-corpus if present, else IDX from /usr/share/datasets),
test = Fashion t10k; digits (sklearn, /16, 70/30 split, seed 0);
rand2 / rand10: N=2000, M=3, Q=2 / 10, uniform cube, test = fresh 2000.
Run single threaded: OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 are set here.
"""
import os
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import gzip
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")

CORPUS = "/tmp/td-corpus"
IDX = "/usr/share/datasets/fashion-mnist"


# ----------------------------------------------------------------- data
def read_idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    nd = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(nd)]
    a = np.frombuffer(b, np.uint8, offset=4 + 4 * nd)
    return a.reshape(dims)


def fashion_test():
    Xt = read_idx(f"{IDX}/t10k-images-idx3-ubyte.gz").reshape(-1, 784) / 255.0
    yt = read_idx(f"{IDX}/t10k-labels-idx1-ubyte.gz").astype(int)
    return Xt, yt


def fashion_train(n):
    name = {10000: "fashion_10k", 60000: "fashion_60k"}.get(n, "fashion_10k")
    p = f"{CORPUS}/{name}.h5"
    if os.path.exists(p):
        import h5py
        with h5py.File(p, "r") as h:
            X = h["X"][:].astype(np.float64)
            y = h["y"][:].astype(int)
    else:
        X = read_idx(f"{IDX}/train-images-idx3-ubyte.gz").reshape(-1, 784) / 255.0
        y = read_idx(f"{IDX}/train-labels-idx1-ubyte.gz").astype(int)
    return X[:n], y[:n]


def load(name):
    if name.startswith("fashion"):
        n = {"fashion3k": 3000, "fashion10k": 10000, "fashion60k": 60000}[name]
        X, y = fashion_train(n)
        try:
            Xt, yt = fashion_test()
        except OSError:
            Xt, yt = None, None
        return X, y, Xt, yt
    if name == "digits":
        from sklearn.datasets import load_digits
        d = load_digits()
        X, y = d.data / 16.0, d.target.astype(int)
        rng = np.random.default_rng(0)
        p = rng.permutation(len(y))
        k = int(0.7 * len(y))
        return X[p[:k]], y[p[:k]], X[p[k:]], y[p[k:]]
    if name.startswith("rand"):
        Q = int(name[4:])
        rng = np.random.default_rng(Q)
        X = rng.random((2000, 3))
        y = rng.integers(0, Q, 2000)
        Xt = rng.random((2000, 3))
        yt = rng.integers(0, Q, 2000)
        return X, y, Xt, yt
    raise SystemExit(f"unknown dataset {name}")


def conflicting_duplicates(X, y):
    """Indices to drop so that no two identical rows carry different labels
    (keeps the first occurrence's label group; reported, normally empty)."""
    _, inv = np.unique(X, axis=0, return_inverse=True)
    first = {}
    drop = []
    for i, g in enumerate(inv.ravel()):
        if g in first and y[first[g]] != y[i]:
            drop.append(i)
        else:
            first.setdefault(g, i)
    return np.array(drop, int)


# ----------------------------------------------------------- evaluation
def evaluate(P, yR, cand_cls, classes):
    """P: n_R x K projections, cand_cls: class of each candidate column.
    Returns per candidate (size, r0, smax)."""
    K = P.shape[1]
    # per class min of each column
    mins = np.full((len(classes), K), np.inf)
    masks = [yR == c for c in classes]
    for i, m in enumerate(masks):
        if m.any():
            mins[i] = P[m].min(0)
    size = np.zeros(K, int)
    r0 = np.full(K, np.inf)
    smax = np.full(K, -np.inf)
    cidx = {c: i for i, c in enumerate(classes)}
    for k in range(K):
        i = cidx[cand_cls[k]]
        o = np.delete(mins[:, k], i).min()
        v = P[masks[i], k]
        inS = v < o
        size[k] = inS.sum()
        r0[k] = o
        if size[k]:
            smax[k] = v[inS].max()
    return size, r0, smax


def better(a, b):
    """a, b = (size, margin); True if a beats b."""
    return a[0] > b[0] or (a[0] == b[0] and a[1] > b[1])


# ------------------------------------------------------------ directions
def unit(W):
    n = np.linalg.norm(W, axis=0)
    n[n == 0] = 1
    return W / n


class Lazy:
    """Cache of one direction per class, refitted only for classes cut."""

    def __init__(self, fit, refresh):
        self.fit, self.refresh, self.cache, self.step = fit, refresh, {}, 0
        self.stale = set()

    def mark(self, zero):
        """classes whose cached direction gave an empty piece: refit."""
        self.stale = set(zero)

    def dirs(self, XR, yR, classes, cut):
        full = self.refresh and self.step % self.refresh == 0
        self.step += 1
        for c in classes:
            if full or c not in self.cache or c == cut or c in self.stale:
                self.cache[c] = self.fit(XR, yR, c)
        for c in list(self.cache):
            if c not in classes:
                del self.cache[c]
        return [(c, self.cache[c]) for c in classes]


def svm_dir(C):
    from sklearn.svm import LinearSVC

    def f(XR, yR, c):
        t = (yR == c)
        m = LinearSVC(C=C, dual=False, tol=1e-3, intercept_scaling=10)
        m.fit(XR, t)
        return -m.coef_[0]           # class c on the low side
    return f


def cost_dir(C, wt, cap=0):
    from sklearn.svm import LinearSVC
    rng = np.random.default_rng(1)

    def f(XR, yR, c):
        if cap and len(yR) > cap:     # random subsample, half class c
            ic = np.flatnonzero(yR == c)
            io = np.flatnonzero(yR != c)
            ic = rng.choice(ic, min(len(ic), cap // 2), replace=False)
            io = rng.choice(io, min(len(io), cap - len(ic)), replace=False)
            sel = np.concatenate([ic, io])
            XR, yR = XR[sel], yR[sel]
        t = (yR == c)
        sw = np.where(t, 1.0, wt)
        m = LinearSVC(C=C, dual=False, tol=1e-3, intercept_scaling=10)
        m.fit(XR, t, sample_weight=sw)
        return -m.coef_[0]
    return f


class Fisher:
    def __init__(self, X, y, regs, meandiff=True):
        self.G = X.T @ X
        self.sums = {c: X[y == c].sum(0) for c in np.unique(y)}
        self.cnt = {c: int((y == c).sum()) for c in np.unique(y)}
        self.regs, self.meandiff = regs, meandiff

    def remove(self, XS, c):
        self.G -= XS.T @ XS
        self.sums[c] = self.sums[c] - XS.sum(0)
        self.cnt[c] -= len(XS)

    def dirs(self, classes):
        n = sum(self.cnt[c] for c in classes)
        tot = sum(self.sums[c] for c in classes)
        Sw = self.G.copy()
        for c in classes:
            if self.cnt[c]:
                Sw -= np.outer(self.sums[c], self.sums[c]) / self.cnt[c]
        M = Sw.shape[0]
        tr = max(np.trace(Sw) / M, 1e-12)
        D = []
        for c in classes:
            mu = self.sums[c] / self.cnt[c]
            mr = (tot - self.sums[c]) / max(n - self.cnt[c], 1)
            D.append(mr - mu)
        D = np.array(D).T                       # M x q
        out = []
        for reg in self.regs:
            try:
                L = np.linalg.cholesky(Sw + reg * tr * np.eye(M))
                W = np.linalg.solve(L.T, np.linalg.solve(L, D))
            except np.linalg.LinAlgError:
                continue
            out += [(c, W[:, i]) for i, c in enumerate(classes)]
        if self.meandiff:
            out += [(c, D[:, i]) for i, c in enumerate(classes)]
        return out


class LogReg:
    def __init__(self, C):
        from sklearn.linear_model import LogisticRegression
        self.m = LogisticRegression(C=C, max_iter=100, tol=1e-3,
                                    warm_start=True)
        self.ncls = None

    def dirs(self, XR, yR, classes):
        if self.ncls != len(classes):      # class set changed: cold start
            from sklearn.linear_model import LogisticRegression
            self.m = LogisticRegression(C=self.m.C, max_iter=100, tol=1e-3,
                                        warm_start=True)
            self.ncls = len(classes)
        self.m.fit(XR, yR)
        cl = list(self.m.classes_)
        if len(cl) == 2:
            w = self.m.coef_[0]
            return [(cl[1], -w), (cl[0], w)]
        return [(c, -self.m.coef_[i]) for i, c in enumerate(cl)]


# ---------------------------------------------------------- grow / polish
def grow(XR, yR, c, w, S_size, marg, rounds, C, wt, hard=False, cap=0):
    """Weighted re-solve around the current piece.  Returns best (w, size,
    r0, smax).  hard=True: S vs nearest rest, near hard-margin (C large)."""
    from sklearn.svm import LinearSVC
    isc = yR == c
    best = None
    for _ in range(rounds):
        p = XR @ w
        r0 = p[~isc].min()
        S = isc & (p < r0)
        if hard:
            # S (its 2000 points nearest the cut) vs 2000 nearest rest points
            iS = np.flatnonzero(S)
            iS = iS[np.argsort(-p[iS])[:2000]]
            iO = np.flatnonzero(~isc)
            iO = iO[np.argsort(p[iO])[:2000]]
            idx = np.concatenate([iS, iO])
            m = LinearSVC(C=1e3, dual=False, tol=1e-5, intercept_scaling=10,
                          max_iter=2000)
            m.fit(XR[idx], S[idx])
        else:
            sw = np.where(isc & ~S, 1.0, wt)
            m = LinearSVC(C=C, dual=False, tol=1e-3, intercept_scaling=10)
            if cap and len(yR) > cap:
                # points nearest the cut: rest from below, class c around r0
                iO = np.flatnonzero(~isc)
                iO = iO[np.argsort(p[iO])[:cap // 2]]
                iC = np.flatnonzero(isc)
                iC = iC[np.argsort(np.abs(p[iC] - r0))[:cap - len(iO)]]
                idx = np.concatenate([iO, iC])
                m.fit(XR[idx], isc[idx], sample_weight=sw[idx])
            else:
                m.fit(XR, isc, sample_weight=sw)
        w2 = -m.coef_[0]
        w2 = w2 / (np.linalg.norm(w2) or 1)
        p2 = XR @ w2
        o = p2[~isc].min()
        v = p2[isc]
        inS = v < o
        sz = int(inS.sum())
        if sz == 0:
            break
        mg = (o - v[inS].max()) / 2
        if better((sz, mg), (S_size, marg)):
            best = (w2, sz, o, v[inS].max())
            w, S_size, marg = w2, sz, mg
        else:
            break
    return best


# ---------------------------------------------------------------- driver
def run(X, y, strategy, a, log=False, radius=1.0):
    rng = np.random.default_rng(0)
    base, *mods = strategy.split("+")
    kinds = [base] if base != "fisher" or "cost" not in mods else ["fisher", "cost"]
    if base == "fisher" and "cost" in mods:
        mods.remove("cost")
    N, M = X.shape
    alive = np.ones(N, bool)
    fisher = Fisher(X, y, a.fisher_regs, True) if "fisher" in kinds else None
    lazy = {}
    if "svm" in kinds:
        lazy["svm"] = Lazy(svm_dir(a.C), a.refresh)
    if "cost" in kinds:
        lazy["cost"] = Lazy(cost_dir(a.C, a.cost_weight, a.fit_cap), a.refresh)
    lr = LogReg(a.C) if "logreg" in kinds else None
    layers = []
    cut = None
    t0 = time.time()
    c0 = time.process_time()
    while True:
        idx = np.flatnonzero(alive)
        yR = y[idx]
        classes = list(np.unique(yR))
        if len(classes) <= 1:
            break
        XR = X[idx]
        cands = []
        if base == "meandiff":
            for c in classes:
                cands.append((c, XR[yR != c].mean(0) - XR[yR == c].mean(0)))
        if fisher is not None:
            cands += fisher.dirs(classes)
        for k in lazy.values():
            cands += k.dirs(XR, yR, classes, cut)
        if lr is not None:
            cands += lr.dirs(XR, yR, classes)
        if "rand" in mods:     # the same random directions for every class
            Rr = rng.standard_normal((M, a.n_random))
            cands += [(c, Rr[:, j]) for c in classes for j in range(a.n_random)]
        # both orientations
        cc = [c for c, _ in cands] * 2
        W = unit(np.array([w for _, w in cands]).T)
        W = np.hstack([W, -W])
        P = XR @ W
        size, r0, smax = evaluate(P, yR, cc, classes)
        marg = np.where(size > 0, (r0 - smax) / 2, -np.inf)
        k = max(range(len(cc)), key=lambda i: (size[i], marg[i]))
        if lazy:
            best_c = {}
            for i, ci in enumerate(cc):
                best_c[ci] = max(best_c.get(ci, 0), size[i])
            for z in lazy.values():
                z.mark([ci for ci in classes if best_c[ci] == 0 and ci != cut])
        c, w, sz, o, sm, vtx = cc[k], W[:, k], int(size[k]), r0[k], smax[k], False
        trim = np.inf
        if sz > 0 and "grow" in mods:
            g = grow(XR, yR, c, w, sz, marg[k], a.grow_rounds, a.C,
                     a.cost_weight, cap=a.fit_cap)
            if g is not None:
                w, sz, o, sm = g
        if sz > 0 and "hard" in mods:
            g = grow(XR, yR, c, w, sz, (o - sm) / 2, a.hard_rounds, a.C,
                     a.cost_weight, hard=True)
            if g is not None:
                w, sz, o, sm = g
        if sz > 0 and a.margin_floor > 0 and (o - sm) / 2 < a.margin_floor * radius:
            p = XR @ w
            lim = o - 2 * a.margin_floor * radius
            T = (yR == c) & (p < lim)
            if T.any():                  # trim S: points nearest r0 wait
                sz, trim = int(T.sum()), lim
        if sz == 0:                      # vertex fallback
            vtx = True
            for _ in range(100):
                v = rng.standard_normal(M)
                v /= np.linalg.norm(v)
                p = XR @ -v
                i = np.argmin(p)
                c = yR[i]
                o = p[yR != c].min()
                if p[i] < o:
                    w, sz, sm = -v, int(((yR == c) & (p < o)).sum()), None
                    sm = p[(yR == c) & (p < o)].max()
                    break
            else:
                raise RuntimeError("vertex fallback failed (duplicates?)")
        p = XR @ w                       # recompute exactly from this w
        o = p[yR != c].min()
        S = (yR == c) & (p < o) & (p < trim)
        assert abs(int(S.sum()) - sz) <= 1 and S.any(), (S.sum(), sz)
        sz, sm = int(S.sum()), p[S].max()
        layers.append(dict(c=c, w=w.copy(), thr=(o + sm) / 2,
                           margin=(o - sm) / 2, size=sz, vtx=vtx))
        if log:
            print(f"  layer {len(layers):4d} class {c} size {sz:6d} "
                  f"margin {(o - sm) / 2:.3g} vtx {vtx} "
                  f"t={time.time() - t0:.1f}", flush=True)
        if fisher is not None:
            fisher.remove(XR[S], c)
        alive[idx[S]] = False
        cut = c
        if time.time() - t0 > a.max_seconds:
            return layers, None, time.time() - t0, time.process_time() - c0
    return (layers, (classes[0] if classes else None), time.time() - t0,
            time.process_time() - c0)


def predict(layers, last, X):
    out = np.full(len(X), -1 if last is None else last)
    done = np.zeros(len(X), bool)
    for L in layers:
        hit = ~done & (X @ L["w"] < L["thr"])
        out[hit] = L["c"]
        done |= hit
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="fashion3k",
                    help="comma list: fashion3k,fashion10k,fashion60k,digits,rand2,rand10")
    ap.add_argument("--strategy", default="meandiff,fisher,svm",
                    help="comma list (see above) or 'all'")
    ap.add_argument("--C", type=float, default=0.01, help="LinearSVC / logreg C")
    ap.add_argument("--cost-weight", type=float, default=100.0)
    ap.add_argument("--refresh", type=int, default=0,
                    help="refit all lazy directions every k steps (0: never)")
    ap.add_argument("--n-random", type=int, default=200,
                    help="random directions per step for the +rand modifier")
    ap.add_argument("--fit-cap", type=int, default=0,
                    help="fit LinearSVCs on at most this many rows (cost: random "
                         "subsample; grow: rows nearest the cut); 0 = all")
    ap.add_argument("--margin-floor", type=float, default=0.0,
                    help="trim a piece (points nearest r0 are left for later) "
                         "so its relative margin is >= this")
    ap.add_argument("--hard-rounds", type=int, default=1,
                    help="rounds of the +hard re-solve")
    ap.add_argument("--grow-rounds", type=int, default=3)
    ap.add_argument("--fisher-regs", type=lambda s: [float(v) for v in s.split(",")],
                    default=[1e-3, 1e-2, 1e-1, 1.0])
    ap.add_argument("--max-seconds", type=float, default=600,
                    help="abandon a run after this many seconds")
    ap.add_argument("--log", action="store_true", help="print every layer")
    a = ap.parse_args()
    strategies = a.strategy.split(",")
    if strategies == ["all"]:
        strategies = ["meandiff", "fisher", "svm", "logreg", "cost",
                      "fisher+cost", "cost+grow", "fisher+grow", "fisher+hard",
                      "fisher+grow+hard", "fisher+rand"]
    print(f"{'data':11s} {'strategy':18s} {'layers':>6s} {'sec':>7s} "
          f"{'minmarg':>9s} {'medmarg':>9s} {'vtx':>4s} {'acc':>6s}  big3 / #size1")
    for dname in a.data.split(","):
        X, y, Xt, yt = load(dname)
        drop = conflicting_duplicates(X, y)
        if len(drop):
            print(f"# {dname}: dropping {len(drop)} conflicting duplicates")
            keep = np.setdiff1d(np.arange(len(y)), drop)
            X, y = X[keep], y[keep]
        mu = X.mean(0)
        X = X - mu
        radius = np.linalg.norm(X, axis=1).max()
        for s in strategies:
            layers, last, sec, cpu = run(X, y, s, a, a.log, radius)
            rel = np.array([L["margin"] for L in layers]) / radius
            acc = "-"
            if Xt is not None and last is not None:
                acc = f"{(predict(layers, last, Xt - mu) == yt).mean():.4f}"
            sizes = [L["size"] for L in layers]
            n1 = sum(1 for v in sizes if v == 1)
            tag = "" if last is not None else " (TIMEOUT)"
            print(f"{dname:11s} {s:18s} {len(layers):6d} {sec:7.1f} "
                  f"{rel.min():9.2e} {np.median(rel):9.2e} "
                  f"{sum(L['vtx'] for L in layers):4d} {acc:>6s}  "
                  f"{sizes[:3]} / {n1} cpu {cpu:.1f}s{tag}", flush=True)


if __name__ == "__main__":
    main()
