#!/usr/bin/python3
"""Deterministic labelled test data for trunc-dist (HDF5: X (N, M), y (N,)).

    gen_data.py OUT.h5 [--kind KIND] --q Q --m M --n N [--seed S]
                [--dtype float32|float64] [--label-offset K] [--label-step D]
                [--ydtype int8|int16|int32|int64|uint8|uint16|uint32]
                [--spread NP,BLOCK_ROWS[,MIN_BLOCKS]]

Kinds
  clusters    Q tight Gaussian clusters; every class is linearly separable from
              the union of all the others (hence sequentially separable in any
              order).  Centres: scaled one-hot vectors (M >= Q), a regular
              simplex (M == Q-1), points on a circle (2 <= M < Q-1) or points on
              a line (M == 1); the cluster spread is chosen from the distance of
              each centre to the hull of the other centres, so the margin is
              always wide.  For M >= 2 a random rotation and shift are applied.
  overlap     two classes drawn from the same Gaussian: not separable.
  duplicates  `clusters`, plus one point copied exactly with another label:
              inseparable by any function.
  nan         `clusters` with one coordinate set to NaN (an input error).
  digits      real data: scikit-learn's 1797 8x8 digit images (M = 64, many
              constant pixels, 10 classes); --n, --m and --q are ignored.
  overlap3    `overlap` plus a third class far away: one layer, then a dead
              end that no order can avoid (the two mixed classes' hulls meet
              with no base point involved).
  copies      `clusters` thinned to every 50th point, each repeated 50 times:
              separable, but the worst rows of any scan are copies of a few
              points (they must not crowd the working set).
  concentric  binary: class 0 uniform in the unit ball, class 1 uniform in
              the shell 2 <= |x| <= 3 around it (--q is ignored); no
              hyperplane separates them, a polytope around the ball does.
  tight       sequentially separable with every gap 1e-6 of the spread
              (M >= Q - 1): class k < Q-1 is cut off from the later classes
              along its own axis.  Every layer then has cond(W^(l)) of about
              1e6..1e7, the regime where a network that merges two such
              layers into one weight matrix loses zero loss to rounding.

Labels are offset + step * j (default 7, 10, 13, ...), deliberately not
0..Q-1, assigned to the centres in a shuffled order; rows are shuffled.
Everything depends only on the arguments (numpy.random.default_rng(seed)).

--spread NP,B[,K] prints how trunc-dist will split the rows over NP ranks in
blocks of B rows and exits 1 (after writing the file) unless every rank owns
at least K blocks (default 2): see row_spread.py.
"""
import argparse
import sys

import h5py
import numpy as np

SCALE = 10.0


def rotation(rng, m):
    """Uniformly random orthogonal m x m matrix."""
    a = rng.standard_normal((m, m))
    q, r = np.linalg.qr(a)
    return q * np.sign(np.diag(r))


def centres(rng, q, m):
    """Q centres in R^M and the half-gap each centre keeps from the convex
    hull of the others (a lower bound, used to pick the spread)."""
    if m >= q:
        c = np.zeros((q, m))
        c[:, :q] = SCALE * np.eye(q)
        # distance from a vertex of the scaled standard simplex to the
        # opposite face: SCALE * sqrt(1 + 1/(q-1))
        gap = SCALE * np.sqrt(1.0 + 1.0 / (q - 1))
    elif m == q - 1:
        # regular simplex: centred one-hot vectors written in an orthonormal
        # basis of the hyperplane sum(x) = 0 (an isometry, same gap)
        e = SCALE * (np.eye(q) - 1.0 / q)
        u, _, _ = np.linalg.svd(np.ones((q, 1)))
        c = e @ u[:, 1:]
        gap = SCALE * np.sqrt(1.0 + 1.0 / (q - 1))
    elif m >= 2:
        # vertices of a regular Q-gon of radius R in the first two coordinates:
        # distance of a vertex to the chord of its neighbours R (1 - cos(2pi/Q))
        r = SCALE * q
        ang = 2.0 * np.pi * np.arange(q) / q
        c = np.zeros((q, m))
        c[:, 0], c[:, 1] = r * np.cos(ang), r * np.sin(ang)
        gap = r * (1.0 - np.cos(2.0 * np.pi / q))
    else:
        # M == 1: points on a line, only sequentially separable for Q > 2
        c = SCALE * np.arange(q, dtype=float)[:, None]
        gap = SCALE
    return c, gap


def class_sizes(rng, q, n):
    """Unequal but deterministic class sizes summing to n, each >= 1."""
    if n < q:
        raise SystemExit(f"gen_data: need N >= Q (N={n}, Q={q})")
    w = 1.0 + np.arange(q) / q          # sizes differ by up to a factor 2
    w = w[rng.permutation(q)]
    sizes = np.maximum(1, np.floor(n * w / w.sum()).astype(np.int64))
    while sizes.sum() > n:
        sizes[np.argmax(sizes)] -= 1
    sizes[np.argmin(sizes)] += n - sizes.sum()
    return sizes


def make_clusters(rng, q, m, n):
    c, gap = centres(rng, q, m)
    # Any projection of a Gaussian point is within 6 sigma of its centre
    # with overwhelming probability (P ~ 2e-9 per point); keep 6 sigma below
    # a quarter of the gap on each side.
    sigma = min(0.5, gap / 24.0)
    sizes = class_sizes(rng, q, n)
    cls = np.repeat(np.arange(q), sizes)
    x = c[cls] + sigma * rng.standard_normal((n, m))
    if m >= 2:
        x = x @ rotation(rng, m).T
        x += rng.uniform(-3.0, 3.0, size=m)
    else:
        x += rng.uniform(-3.0, 3.0)
    return x, cls


def make_tight(rng, q, m, n, rel=1e-6):
    if m < q - 1:
        raise SystemExit(f"gen_data: tight needs M >= Q - 1 (M={m}, Q={q})")
    x = rng.standard_normal((n, m))
    cls, free = np.full(n, q - 1), np.ones(n, bool)
    for k in range(q - 1):          # class k: the top 1/(Q-k) of the rest on axis k
        tau = np.quantile(x[free, k], 1.0 - 1.0 / (q - k))
        cls[free & (x[:, k] > tau)] = k
        free &= cls != k
    # the base point of class k lands among its points: move them behind the
    # later cuts so it cannot block a later class; the last class furthest
    for k in range(q - 1):
        x[cls == k, k + 1:q - 1] -= 3.0
    x[cls == q - 1, :q - 1] -= 6.0
    gap = rel * np.ptp(x)
    for k in range(q - 1):          # open each cut to exactly `gap` on axis k
        later = cls > k
        x[cls == k, k] += x[later, k].max() + gap - x[cls == k, k].min()
    # then make the hulls that close: a class-k point right across the cut
    # from the leading later point (backwards, so no partner moves later)
    for k in reversed(range(q - 1)):
        later = np.flatnonzero(cls > k)
        lead = later[np.argmax(x[later, k])]
        mine = np.flatnonzero(cls == k)
        x[mine[np.argmin(x[mine, k])]] = x[lead] + gap * np.eye(m)[k]
    return x @ rotation(rng, m).T, cls


def make_concentric(rng, m, n):
    cls = np.repeat(np.arange(2), [n // 2, n - n // 2])
    d = rng.standard_normal((n, m))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    u = rng.random(n)
    r = np.where(cls == 0, u ** (1.0 / m), 2.0 + u)
    return d * r[:, None], cls


def make_overlap(rng, m, n):
    cls = np.repeat(np.arange(2), [n // 2, n - n // 2])
    x = 1.0 + rng.standard_normal((n, m))
    return x, cls


# Fixed geometries for the order search (--q and --m are ignored).
#
# trap (M = 3, labels 3, 8, 21, 30): tight clusters at
#   A=3: (0, 40, 5)   B=8: (-10, 0, 0)   C=21: (0, 0, 0)   D=30: (10, 0, 0).
# C sits between B and D, so one-vs-rest fails for it; A is far away and has
# by far the largest margin, so the greedy search collapses it first.  With
# A gone, the barycentre of the remaining means lies on the B-C-D line, so
# with the segment rule the base point of B (or D) lands on that line
# between it and C, and C is then trapped between that base point and the
# other end: greedy dies at step 4 with order [3, 8, 30] (or its mirror
# [3, 30, 8]).  Collapsing B first, while A still lifts the barycentre off
# the line, puts p_B above the line; then [8, 3, 30, 21] works.  The
# depth-first search finds it after undoing the first layer.  By default
# the second of B and D gets a free base point off the line instead, and
# greedy gets through.
# collinear3 (M = 2): B, C, D alone on a line: with the segment rule every
# base point lands on the line and C stays trapped.  Sequentially separable
# in Definition 5's sense all the same: a base point moved off the line
# (free base points) lets C through, and makes the three affinely
# independent for the output layer (M = Q - 1).
# collinear4 (M = 3): four clusters on a line, the two middle ones trapped
# until the base points leave the line (in two different directions).
FIXED = {
    "trap": ({3: (0, 40, 5), 8: (-10, 0, 0), 21: (0, 0, 0), 30: (10, 0, 0)}, 0.3),
    "collinear3": ({8: (-10, 0), 21: (0, 0), 30: (10, 0)}, 0.3),
    "collinear4": ({8: (-15, 0, 0), 21: (-5, 0, 0), 30: (5, 0, 0),
                    45: (15, 0, 0)}, 0.3),
    "collinear3wide": ({8: (-10, 0), 21: (0, 0), 30: (10, 0)}, 1.5),
}


def make_fixed(rng, kind, n):
    centres, sd = FIXED[kind]
    labels = np.array(list(centres))
    c = np.array(list(centres.values()), dtype=float)
    cls = np.arange(n) % len(labels)
    return c[cls] + sd * rng.standard_normal((n, c.shape[1])), cls, labels


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--kind", default="clusters",
                    choices=["clusters", "overlap", "duplicates", "nan",
                             "trap", "collinear3", "collinear4", "collinear3wide", "copies", "tight",
                             "overlap3", "digits", "random_labels", "concentric"])
    ap.add_argument("--q", type=int, default=3)
    ap.add_argument("--m", type=int, required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    ap.add_argument("--label-offset", type=int, default=7)
    ap.add_argument("--label-step", type=int, default=3)
    ap.add_argument("--ydtype", default=None,
                    choices=["int8", "int16", "int32", "int64",
                             "uint8", "uint16", "uint32", "uint64"],
                    help="default: int16 for overlap, int32 otherwise")
    ap.add_argument("--spread", default=None, metavar="NP,B[,K]",
                    help="check that NP ranks in blocks of B rows each own "
                         ">= K blocks (row_spread.py)")
    ap.add_argument("--x-name", default="X")
    ap.add_argument("--y-name", default="y")
    a = ap.parse_args(argv)

    if a.m < 1 or a.n < 2:
        ap.error("need M >= 1 and N >= 2")
    rng = np.random.default_rng(a.seed)
    fixed_labels = None
    if a.kind in FIXED:
        x, cls, fixed_labels = make_fixed(rng, a.kind, a.n)
        q = len(fixed_labels)
        a.m = x.shape[1]
    elif a.kind == "digits":        # real data: scikit-learn's 8x8 digits
        from sklearn.datasets import load_digits
        d = load_digits()
        x, cls = d.data.astype(np.float64), d.target.astype(np.int64)
        q, a.m = 10, x.shape[1]
    elif a.kind == "overlap":
        q = 2
        x, cls = make_overlap(rng, a.m, a.n)
    elif a.kind == "concentric":
        q = 2
        x, cls = make_concentric(rng, a.m, a.n)
    elif a.kind == "overlap3":      # class 2 far away, classes 0 and 1 mixed
        q = 3
        x, cls = make_overlap(rng, a.m, a.n)
        far = rng.random(len(cls)) < 1.0 / 3
        x[far] = 0.5 * rng.standard_normal((int(far.sum()), a.m)) + 40.0
        cls = np.where(far, 2, cls)
    elif a.kind == "random_labels":  # pure memorisation: uniform in the cube
        q = a.q
        x = rng.random((a.n, a.m))
        cls = rng.integers(0, q, a.n)
    elif a.kind == "tight":
        q = a.q
        x, cls = make_tight(rng, q, a.m, a.n)
    else:
        q = a.q
        if q < 2:
            ap.error("need Q >= 2")
        n = a.n - 1 if a.kind == "duplicates" else a.n
        x, cls = make_clusters(rng, q, a.m, n)

    if a.kind == "copies":            # each point 50 times: separable, but the
        x = np.repeat(x[::50], 50, axis=0)[:len(cls)]   # worst rows are copies
        cls = np.repeat(cls[::50], 50)[:len(x)]
    x = x.astype(a.dtype)             # duplicates must be exact after the cast
    if a.kind == "duplicates":
        i = int(rng.integers(len(cls)))
        other = (cls[i] + 1 + int(rng.integers(q - 1))) % q
        x = np.vstack([x, x[i:i + 1]])
        cls = np.append(cls, other)
    if a.kind == "nan":
        i, j = int(rng.integers(len(cls))), int(rng.integers(a.m))
        x[i, j] = np.nan

    # labels: not 0..Q-1, not in centre order
    label_of = a.label_offset + a.label_step * rng.permutation(q)
    if fixed_labels is not None:
        label_of = fixed_labels
    ydtype = a.ydtype or ("int16" if a.kind == "overlap" else "int32")
    info = np.iinfo(ydtype)
    if label_of.min() < info.min or label_of.max() > info.max:
        ap.error(f"labels {label_of.min()}..{label_of.max()} do not fit {ydtype}")
    y = label_of[cls].astype(ydtype)

    perm = rng.permutation(len(y))
    x, y = x[perm], y[perm]
    with h5py.File(a.out, "w") as f:
        f.create_dataset(a.x_name, data=x)
        f.create_dataset(a.y_name, data=y)
        f.attrs["generator"] = "tests/integration/gen_data.py"
        f.attrs["args"] = " ".join(sys.argv[1:] if argv is None else argv)
    print(f"gen_data: {a.out}: kind={a.kind} N={len(y)} M={a.m} Q={q} "
          f"X {x.dtype} y {y.dtype} labels {sorted(set(int(v) for v in y))}")
    if a.spread:
        import row_spread            # same directory as this script
        v = [int(t) for t in a.spread.split(",")]
        if len(v) not in (2, 3) or v[0] < 1 or v[1] < 1:
            ap.error("--spread needs NP,BLOCK_ROWS[,MIN_BLOCKS]")
        line, problems = row_spread.spread(len(y), v[0], v[1],
                                           v[2] if len(v) == 3 else None)
        print(line)
        for p in problems:
            print(f"row_spread: FAIL: {p}")
        if problems:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
