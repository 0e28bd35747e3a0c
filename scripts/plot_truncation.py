#!/usr/bin/python3
"""The data after each truncation of a trunc-dist network, with that layer's
hyperplane, cones and base point (the paper's Figures 1 and 2).

    scripts/plot_truncation.py NETWORK.h5 DATA.h5 OUT.png [--layers K]
        [--x X] [--y y] [--max-points P] [--verbose]

One panel per hidden cone layer, the first K (default 6).  The layers are
applied in their geometric form from /construction (io/README.md): layer l is
the truncation tau_l(x) = p_l + W^-1 relu(W (x - p_l)) with W = W_theta R
rebuilt from h_l, p_l and lambda_l (include/td_cone.h: R the signed
Householder reflection with R h = u, reflecting h onto -u when sum(h) >= 0;
W_theta = lambda I + (1 - lambda) u u^T, u = (1, ..., 1)/sqrt(n)).  It keeps
the forward cone p_l + C[h_l] (green) and sends the backward cone
p_l + C[-h_l] (red) to p_l; between them points are moved partly (none in an
exact network).  The lifted constructions work in R^(M+Q): the data sit at
(x, 0), so the panels show the section of the cones with the plane of the
data, and the base point's input coordinates (its class coordinate, the
lift, is not drawn).  A clustered network's cones live in the coordinates
z = (U (x - xbar), t) of its first layer (/construction/clustered): its
panels show the data in z.

Panel l shows the rows after layers 1..l in colour (by class), where this
layer's collapsed rows came from (hollow), the hyperplane <h_l, x> = offset_l
(dashed), the normal h_l (arrow, towards the kept side), the base point p_l
(star) and the earlier base points (black x).  2-D data are drawn as they
are; other data in the plane through p_l spanned by h_l (its input
coordinates) and the principal direction of the data most orthogonal to it
(one plane per panel): the points projected onto it, the cones cut by it,
so the apex and the cone axis are in the picture.
Coordinates are the data's own units (the geometry's input_scale undone).

A polytope result (binary data) gets one panel per facet, w_i x = beta_i
with its band of half width gap_i, the outer rows it covers first marked,
and a last panel with the polytope itself (where the indicator unit is positive).

The script counts, on every drawn layer, the active rows the cone keeps (of
other classes), collapses (of the layer's class or piece) or neither, and the facets' first-covered rows, and says whether they
agree with /construction (they must, for the training data of the result);
it also checks that the geometry rebuilds /network's first layer.  Exit 0,
or 1 when they disagree (the picture is still written).  Rows
beyond --max-points (default 4000) are computed but not drawn.  Not a
trunc-dist result, data of another feature count, or OUT not ending in .png:
one line naming the file, exit 2.
"""
import argparse
import os
import sys

import numpy as np

from td_result import InputError, open_h5, text

ME = "plot_truncation"


class Cone:
    """One cone layer in its O(n) form (include/td_cone.h)."""

    def __init__(self, h, p, lam):
        n = h.size
        self.n, self.lam = n, float(lam)
        self.h = h / np.linalg.norm(h)
        self.p = np.asarray(p, dtype=np.float64)
        self.u = np.full(n, 1.0 / np.sqrt(n))
        self.sigma = -1.0 if self.h.sum() >= 0 else 1.0
        self.v = self.h - self.sigma * self.u
        self.vv = float(self.v @ self.v)

    def R(self, X):                          # rows of X
        if self.vv > 0:
            X = X - np.outer(2.0 * (X @ self.v) / self.vv, self.v)
        return self.sigma * X

    def W(self, X):
        Y = self.R(X)
        return self.lam * Y + np.outer((1.0 - self.lam) * (Y @ self.u), self.u)

    def Winv(self, Y):
        a = 1.0 / self.lam
        return self.R(a * Y + np.outer((1.0 - a) * (Y @ self.u), self.u))

    def dense(self):
        return self.W(np.eye(self.n)).T

    def truncate(self, X):
        """(tau(X), code) with code +1 kept, -1 collapsed, 0 mixed; the two
        cone cases exactly (x and p), as trunc-dist computes them."""
        z = self.W(X - self.p)
        kept = np.all(z >= 0, axis=1)
        coll = ~kept & np.all(z <= 0, axis=1)
        out = X.copy()
        out[coll] = self.p
        mixed = ~kept & ~coll
        if mixed.any():
            out[mixed] = self.p + self.Winv(np.maximum(z[mixed], 0.0))
        return out, np.where(kept, 1, np.where(coll, -1, 0))


def colours(q):
    import matplotlib
    if q <= 10:
        return [matplotlib.colormaps["tab10"](i) for i in range(q)]
    if q <= 20:
        return [matplotlib.colormaps["tab20"](i) for i in range(q)]
    cm = matplotlib.colormaps["turbo"]
    return [cm(i / (q - 1)) for i in range(q)]


class View:
    """The plane of a picture: input-space points (scaled units) o + E b,
    E orthonormal (M, 2), drawn at b / s (the data's units).  Rows are
    projected orthogonally onto it."""

    def __init__(self, s, m, origin, E, what):
        self.s, self.m = s, m
        self.o, self.E, self.what = origin, E, what

    @classmethod
    def data_plane(cls, Xs, s):
        """2-D data: their own plane (1-D: the line); otherwise the plane of
        the first two principal components through the mean."""
        m = Xs.shape[1]
        if m <= 2:
            return cls(s, m, np.zeros(m), np.eye(m), ("x1", "x2") if m == 2 else ("x", ""))
        mu = Xs.mean(axis=0)
        return cls(s, m, mu, principal(Xs)[:, :2], ("PC 1", "PC 2"))

    @classmethod
    def along(cls, Xs, s, normal, origin, name):
        """Data of more than two features: the plane through `origin` spanned
        by the normal (input coordinates) and the principal direction most
        orthogonal to it, so a cone around the normal shows as a sector."""
        m = Xs.shape[1]
        if m <= 2:
            return cls.data_plane(Xs, s)
        e1 = normal[:m] / max(np.linalg.norm(normal[:m]), 1e-300)
        pcs = principal(Xs)
        e2 = None
        for k in range(pcs.shape[1]):
            r = pcs[:, k] - (pcs[:, k] @ e1) * e1
            if np.linalg.norm(r) > 0.1:
                e2 = r / np.linalg.norm(r)
                break
        if e2 is None or not np.all(np.isfinite(e1)) or np.linalg.norm(e1) < 0.5:
            return cls.data_plane(Xs, s)
        return cls(s, m, origin[:m].copy(), np.column_stack([e1, e2]),
                   (f"along {name}", f"principal direction orthogonal to {name}"))

    def coords(self, P):
        """plot coordinates of input-space points P (rows, scaled units)."""
        a = (P[:, :self.m] - self.o) @ self.E / self.s
        if a.shape[1] == 1:
            a = np.column_stack([a[:, 0], np.zeros(len(a))])
        return a

    def lift(self, A, width):
        """input-space points (scaled, `width` coordinates, the lifted class
        coordinates 0) of plot points A."""
        P = self.o + (self.s * A[:, :self.E.shape[1]]) @ self.E.T
        if width > self.m:
            P = np.hstack([P, np.zeros((len(P), width - self.m))])
        return P

    def line(self, w, c):
        """(a, b) with a . A = b: where the input hyperplane <w, x> = c (w
        over the input coordinates) meets the plane; None when parallel."""
        wm = w[:self.m]
        a = self.E.T @ wm
        if np.linalg.norm(a) < 1e-12 * max(1.0, np.linalg.norm(w)):
            return None
        return a * self.s, c - wm @ self.o

    def direction(self, w):
        """w's direction in plot coordinates (unit, or None)."""
        d = self.E.T @ w[:self.m]
        if d.size < 2 or np.linalg.norm(d) < 1e-9:
            return None
        return d / np.linalg.norm(d)


_PCS = {}


def principal(Xs):
    """Principal directions of the rows (columns, decreasing variance)."""
    key = id(Xs)
    if key not in _PCS:
        c = Xs - Xs.mean(axis=0)
        _, _, vt = np.linalg.svd(c[:: max(1, len(c) // 20000)], full_matrices=False)
        _PCS[key] = vt.T
    return _PCS[key]


def draw_line(ax, ab, lim, **kw):
    if ab is None:
        return
    a, b = ab
    (x0, x1), (y0, y1) = lim
    if a.size == 1 or abs(a[1]) < 1e-12 * abs(a[0]):
        ax.axvline(b / a[0], **kw)
    elif abs(a[1]) >= abs(a[0]):
        xs = np.array([x0, x1])
        ax.plot(xs, (b - a[0] * xs) / a[1], **kw)
    else:
        ys = np.array([y0, y1])
        ax.plot((b - a[1] * ys) / a[0], ys, **kw)


def limits(*pts, square=True):
    """Axis limits around the points, 8 % margin; square (one span for both
    axes, so angles and normals look right at equal aspect)."""
    P = np.vstack([p for p in pts if p is not None and len(p)])
    lo, hi = P.min(axis=0), P.max(axis=0)
    span = np.maximum(hi - lo, 1e-12 + 1e-9 * np.abs(hi))
    if square:
        span = np.full(2, span.max())
    mid = (lo + hi) / 2
    half = 0.54 * span
    return (mid[0] - half[0], mid[0] + half[0]), (mid[1] - half[1], mid[1] + half[1])


def frame(ax, view, lim):
    """A panel's limits, equal axes and the view's axis names."""
    ax.set_xlim(*lim[0])
    ax.set_ylim(*lim[1])
    ax.set_aspect("equal")
    ax.set_xlabel(view.what[0], fontsize=8)
    ax.set_ylabel(view.what[1], fontsize=8)
    ax.tick_params(labelsize=7)


def dot_size(n):
    return float(np.clip(2500.0 / max(n, 1), 3.0, 16.0))


def grid(lim, g):
    xs = np.linspace(*lim[0], g)
    ys = np.linspace(*lim[1], g)
    GX, GY = np.meshgrid(xs, ys)
    return GX, GY, np.column_stack([GX.ravel(), GY.ravel()])


def read_data(path, xname, yname, m, max_bytes):
    d = open_h5(path)
    with d:
        if xname not in d or not hasattr(d[xname], "shape"):
            raise InputError(f"{path}: no dataset '{xname}'")
        dx = d[xname]
        if dx.ndim != 2:
            raise InputError(f"{path}: dataset '{xname}' has rank {dx.ndim}, "
                             f"expected 2 (N x M)")
        if dx.shape[1] != m:
            raise InputError(f"{path}: {dx.shape[1]} features, the network "
                             f"takes {m}")
        n = dx.shape[0]
        step = max(1, -(-n * m * 8 // max_bytes))
        X = dx[::step].astype(np.float64)
        y = None
        if yname in d and d[yname].ndim == 1 and d[yname].shape[0] == n:
            y = d[yname][::step].astype(np.int64)
        if not np.all(np.isfinite(X)):
            raise InputError(f"{path}: dataset '{xname}' has non-finite values")
    return X, y, n, step


def plot_cones(a, f, c, X, y, subset, s, axes, G, verbose):
    """Returns (summary, agree) for the cone constructions."""
    labels = f["network/label_values"][...].astype(np.int64)
    q = labels.size
    kind = text(c.attrs.get("construction", "theorem6"))
    width = int(c.attrs.get("width", X.shape[1]))
    H, P, lam = c["h"][...], c["p"][...], c["lambda"][...]
    off = c["offset"][...]
    order = c["order_labels"][...].astype(np.int64)
    theta = c["theta"][...] if "theta" in c else None
    n_layers = order.size
    K = min(len(axes), n_layers)
    A1 = np.eye(X.shape[1]) * s     # layer 1 reads x through A1
    if kind == "clustered":         # the cones live in z = (U (s x - xbar), t)
        g = c["clustered"]
        U, xbar = g["projection"][...], g["barycentre"][...]
        A = np.vstack([U, np.zeros((1, U.shape[1]))])
        A1 = A * s
        X = (s * X) @ A.T + np.append(-U @ xbar, float(g.attrs["projection_height"]))
        s = 1.0
    m = X.shape[1]
    col = colours(q)
    Xs = s * X
    Z = np.hstack([Xs, np.zeros((len(Xs), width - m))]) if width > m else Xs.copy()
    cls = (np.searchsorted(labels, y).clip(0, q - 1) if y is not None else None)
    if cls is not None:
        cls = np.where(labels[cls] == y, cls, -1)
    draw = np.linspace(0, len(X) - 1, min(len(X), a.max_points)).astype(int)

    # does the geometry rebuild /network's first layer?
    g1 = f["network/layer_1/weight"][...]
    W1 = Cone(H[0], P[0], lam[0]).dense()[:, :A1.shape[0]] @ A1
    rel = float(np.abs(g1 - W1).max() / max(np.abs(g1).max(), 1e-300))
    layer1 = (f"the geometry rebuilds /network layer 1 (max rel diff {rel:.1e})"
              if rel <= 1e-9 else f"WARNING: the geometry differs from /network "
              f"layer 1 by {rel:.1e} (relative)")

    cones = [Cone(H[l], P[l], lam[l]) for l in range(K)]
    before, after, codes = [], [], []
    cur = Z
    active = np.ones(len(Z), bool)
    counts = []
    for l in range(K):
        nxt, code = cones[l].truncate(cur)
        # trunc-dist's counts: kept = other rows in the forward cone,
        # collapsed = the layer's rows in the backward cone (pieces: the
        # class's rows below the hyperplane), the rest "mixed" (cut, or on
        # the wrong side: best effort only)
        if cls is not None:
            mine = cls == np.searchsorted(labels, order[l])
            if kind == "pieces":
                mine &= (cur - cones[l].p) @ cones[l].h < 0
            expect = np.where(mine, -1, 1)
        else:
            expect = code
        ok = active & (code == expect)
        counts.append((int(np.sum(ok & (code == 1))), int(np.sum(ok & (code == -1))),
                       int(np.sum(active & ~ok))))
        before.append(cur)
        after.append(nxt)
        codes.append(np.where(active, code, 2))     # 2: collapsed earlier
        active = active & (code != -1)
        cur = nxt

    # 2-D data: one frame for every panel; else a plane along each h_l
    views = [View.along(Xs, s, H[l], P[l], f"h{l + 1}") for l in range(K)]
    if m <= 2:
        view = views[0]
        allp = [view.coords(Z[draw])] + [view.coords(after[l][draw]) for l in range(K)]
        allp.append(view.coords(P[:K]))
        lims = [limits(*allp)] * K
    else:
        lims = [limits(views[l].coords(before[l][draw]), views[l].coords(after[l][draw]),
                       views[l].coords(P[:l + 1])) for l in range(K)]
    ds = dot_size(len(draw))

    for l in range(K):
        ax = axes[l]
        cone = cones[l]
        view, lim = views[l], lims[l]
        GX, GY, A = grid(lim, G)
        plane = view.lift(A, width)
        zg = cone.W(plane - cone.p)
        zmin, zmax = zg.min(axis=1).reshape(GX.shape), zg.max(axis=1).reshape(GX.shape)
        if zmin.max() > 0:
            ax.contourf(GX, GY, zmin, levels=[0, np.inf], colors=["#2ca02c"], alpha=0.13)
            if zmin.min() < 0:
                ax.contour(GX, GY, zmin, levels=[0], colors=["#2ca02c"], linewidths=0.8)
        if zmax.min() < 0:
            ax.contourf(GX, GY, zmax, levels=[-np.inf, 0], colors=["#d62728"], alpha=0.13)
            if zmax.max() > 0:
                ax.contour(GX, GY, zmax, levels=[0], colors=["#d62728"], linewidths=0.8)
        draw_line(ax, view.line(H[l], off[l]), lim, color="k", ls="--", lw=1)
        code = codes[l][draw]
        now = view.coords(after[l][draw])
        was = view.coords(before[l][draw])
        cd = cls[draw] if cls is not None else None
        moved = code == -1
        cc = (np.array([col[k] if k >= 0 else (0.5, 0.5, 0.5, 1) for k in cd])
              if cd is not None else np.full((len(draw), 4), 0.4))
        if moved.any():
            ax.scatter(was[moved, 0], was[moved, 1], s=2.5 * ds, facecolors="none",
                       edgecolors=cc[moved], linewidths=0.9)
        stay = ~moved
        ax.scatter(now[stay, 0], now[stay, 1], s=ds, c=cc[stay], lw=0)
        if l > 0:
            pe = view.coords(P[:l])
            ax.scatter(pe[:, 0], pe[:, 1], marker="x", c="k", s=30, lw=1.2)
        pl = view.coords(P[l:l + 1])[0]
        k = int(np.searchsorted(labels, order[l]))
        ax.scatter([pl[0]], [pl[1]], marker="*", s=220, c=[col[k]], edgecolors="k",
                   linewidths=0.8, zorder=5)
        hd = view.direction(cone.h)
        span = max(lim[0][1] - lim[0][0], lim[1][1] - lim[1][0])
        if hd is not None:
            hd = hd * 0.12 * span
            ax.annotate("", xy=(pl[0] + hd[0], pl[1] + hd[1]), xytext=(pl[0], pl[1]),
                        arrowprops=dict(arrowstyle="->", color="k", lw=1))
        kept, coll, mixed = counts[l]
        th = f", theta {np.degrees(theta[l]):.1f} deg" if theta is not None else ""
        ax.set_title(f"layer {l + 1}: class {order[l]}, {coll} rows to p{th}"
                     + (f", {mixed} in neither" if mixed else ""), fontsize=9)
        frame(ax, view, lim)

    # agreement with /construction (the same rows as the build only)
    ck, cc_, cm = (c[n][...] for n in ("n_kept", "n_collapsed", "n_mixed"))
    same_rows = subset == 1 and len(X) == int(c["class_counts"][...].sum())
    bad = [l + 1 for l in range(K) if counts[l] != (int(ck[l]), int(cc_[l]), int(cm[l]))]
    if verbose:
        for l in range(K):
            print(f"{ME}: layer {l + 1} (class {order[l]}): {counts[l][0]} kept, "
                  f"{counts[l][1]} collapsed, {counts[l][2]} neither; /construction: "
                  f"{int(ck[l])}, {int(cc_[l])}, {int(cm[l])}")
    if not same_rows:
        agree = (f"counts not compared (these are not the {int(c['class_counts'][...].sum())} "
                 f"rows the network was built on)")
    elif bad:
        agree = (f"the cone maps DIFFER from /construction's counts at layer "
                 f"{bad[0]}: {counts[bad[0] - 1]} vs "
                 f"{(int(ck[bad[0] - 1]), int(cc_[bad[0] - 1]), int(cm[bad[0] - 1]))}")
    else:
        agree = ("the cone maps agree with /construction's counts on every "
                 "drawn layer (kept, collapsed, neither)")
    summary = (f"{K} of {n_layers} cone layers ({kind}), {len(draw)} of "
               f"{len(X)} rows drawn; {agree}; {layer1}")
    handles(axes[0].figure, labels, col, lifted=width > m)
    return summary, not bad and rel <= 1e-9


def plot_polytope(a, f, c, X, y, subset, s, axes, G, verbose):
    labels = f["network/label_values"][...].astype(np.int64)
    col = colours(labels.size)
    w, beta, gap = c["facet_w"][...], c["facet_beta"][...], c["facet_gap"][...]
    fn = c["facet_n"][...].astype(np.int64)
    inner, outer = int(c.attrs["inner_label"]), int(c.attrs["outer_label"])
    k = fn.size
    K = min(len(axes) - 1, k)
    Xs = s * X
    draw = np.linspace(0, len(X) - 1, min(len(X), a.max_points)).astype(int)
    view0 = View.data_plane(Xs, s)
    # 2-D data: one frame; else a plane along each facet's normal
    views = [View.along(Xs, s, w[i], view0.o, f"w{i + 1}") for i in range(K)] + [view0]
    pts_all = [v.coords(Xs[draw]) for v in views]
    lims = [limits(p) for p in pts_all]
    cls = np.searchsorted(labels, y).clip(0, labels.size - 1) if y is not None else None
    cc = (np.array([col[j] for j in cls[draw]]) if cls is not None
          else np.full((len(draw), 4), 0.4))
    proj = Xs @ w.T                           # (N, k)
    is_outer = (y == outer) if y is not None else np.ones(len(X), bool)
    covered = np.zeros(len(X), bool)
    first = []
    for i in range(k):
        # rows on the band's edge count (their support rows sit there, up to
        # rounding; no row is inside the band)
        now = is_outer & ~covered & (proj[:, i] <= beta[i] - (1.0 - 1e-6) * gap[i])
        first.append(now)
        covered |= now
    got = [int(v.sum()) for v in first]
    for i in range(K):
        ax = axes[i]
        view, lim, pts = views[i], lims[i], pts_all[i]
        GX, GY, A = grid(lim, G)
        plane = view.lift(A, X.shape[1])
        side = (plane @ w[i]).reshape(GX.shape)
        ax.contourf(GX, GY, side, levels=[-np.inf, beta[i] - gap[i]],
                    colors=[col[int(np.searchsorted(labels, outer))]], alpha=0.13)
        for cst, ls in ((beta[i], "--"), (beta[i] - gap[i], ":"), (beta[i] + gap[i], ":")):
            draw_line(ax, view.line(w[i], cst), lim, color="k", ls=ls, lw=0.9)
        mark = first[i][draw]
        ds = dot_size(len(draw))
        ax.scatter(pts[~mark, 0], pts[~mark, 1], s=ds, c=cc[~mark], lw=0, alpha=0.35)
        ax.scatter(pts[mark, 0], pts[mark, 1], s=2 * ds, c=cc[mark], edgecolors="k",
                   linewidths=0.3)
        ax.set_title(f"facet {i + 1}: {got[i]} rows of class {outer} first, "
                     f"half gap {gap[i]:.3g}", fontsize=9)
    # the polytope: the network's indicator unit, u = relu(1 - sum z_i)
    ax = axes[K]
    view, lim, pts = views[K], lims[K], pts_all[K]
    GX, GY, A = grid(lim, G)
    plane = view.lift(A, X.shape[1])
    zi = np.maximum(2.0 * (beta - plane @ w.T) / gap, 0.0)
    u = np.maximum(1.0 - zi.sum(axis=1), 0.0).reshape(GX.shape)
    ax.contourf(GX, GY, u, levels=[1e-12, 1.0 + 1e-12],
                colors=[col[int(np.searchsorted(labels, inner))]], alpha=0.2)
    ax.contour(GX, GY, u, levels=[1e-12], colors="k", linewidths=0.8)
    for i in range(k):
        draw_line(ax, view.line(w[i], beta[i]), lim, color="0.5", ls="--", lw=0.6)
    ax.scatter(pts[:, 0], pts[:, 1], s=dot_size(len(draw)), c=cc, lw=0)
    ax.set_title(f"the polytope ({k} facets): indicator > 0 around class {inner}",
                 fontsize=9)
    for ax, view, lim in zip(axes[:K + 1], views, lims):
        frame(ax, view, lim)
    if verbose:
        for i in range(k):
            print(f"{ME}: facet {i + 1}: {got[i]} outer rows first; "
                  f"/construction: {fn[i]}")
    same_rows = subset == 1 and len(X) == int(c["class_counts"][...].sum())
    if not same_rows or y is None:
        agree = "counts not compared (not the rows the network was built on)"
    elif got != fn.tolist():
        i = next(j for j in range(k) if got[j] != fn[j])
        agree = (f"the facets DIFFER from /construction's counts at facet "
                 f"{i + 1}: {got[i]} vs {fn[i]}")
    else:
        agree = "the facets agree with /construction's counts (rows covered first)"
    handles(axes[0].figure, labels, col, lifted=False, polytope=True)
    return (f"{K} of {k} facets and the polytope, {len(draw)} of {len(X)} rows "
            f"drawn; {agree}"), got == fn.tolist() or not same_rows


def handles(fig, labels, col, lifted, polytope=False):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    hs = [Line2D([], [], ls="", marker="o", color=col[k], label=f"class {labels[k]}")
          for k in range(labels.size)]
    if polytope:
        hs += [Line2D([], [], color="k", ls="--", label="facet hyperplane"),
               Line2D([], [], color="k", ls=":", label="band of half width gap")]
    else:
        hs += [Patch(color="#2ca02c", alpha=0.3, label="kept cone"),
               Patch(color="#d62728", alpha=0.3, label="collapsed cone (to p)"),
               Line2D([], [], color="k", ls="--", label="hyperplane"),
               Line2D([], [], ls="", marker="*", ms=12, color="0.6", mec="k",
                      label="base point p" + (" (lift not drawn)" if lifted else "")),
               Line2D([], [], ls="", marker="x", color="k", label="earlier base points"),
               Line2D([], [], ls="", marker="o", mfc="none", mec="0.4",
                      label="where collapsed rows came from")]
    fig.legend(handles=hs, loc="lower center", ncol=min(len(hs), 6), fontsize=8,
               frameon=False)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="plot_truncation.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("network")
    ap.add_argument("data")
    ap.add_argument("out", help="OUT.png")
    ap.add_argument("--layers", type=int, default=6, metavar="K",
                    help="panels for the first K layers (facets) (default 6)")
    ap.add_argument("--x", default="X", help="dataset of the points (default X)")
    ap.add_argument("--y", default="y", help="dataset of the labels (default y)")
    ap.add_argument("--max-points", type=int, default=4000,
                    help="rows drawn per panel (all are computed)")
    ap.add_argument("--max-mib", type=int, default=1024,
                    help="read every k-th row when X is larger than this")
    ap.add_argument("--grid", type=int, default=300, help=argparse.SUPPRESS)
    ap.add_argument("--verbose", action="store_true", help="a line per layer")
    a = ap.parse_args(argv)
    if a.layers < 1:
        ap.error("--layers must be at least 1")
    try:
        if not a.out.lower().endswith(".png"):
            raise InputError(f"{a.out}: the picture is written as PNG: name it OUT.png")
        outdir = os.path.dirname(os.path.abspath(a.out))
        if not os.path.isdir(outdir):
            raise InputError(f"{a.out}: directory {outdir} does not exist")
        f = open_h5(a.network)
        c = f.get("construction")
        if "network" not in f or c is None or not hasattr(c, "attrs"):
            f.close()
            raise InputError(f"{a.network}: not a trunc-dist result (no /network "
                             f"and /construction groups)")
        kind = text(c.attrs.get("construction", "theorem6"))
        need = (("facet_w", "facet_beta", "facet_gap", "facet_n") if kind == "polytope"
                else ("h", "p", "lambda", "offset", "order_labels", "n_kept",
                      "n_collapsed", "n_mixed"))
        miss = [n for n in need if n not in c]
        if miss or (kind != "polytope" and c["order_labels"].shape[0] == 0):
            f.close()
            raise InputError(f"{a.network}: not a trunc-dist result with cone "
                             f"layers (no /construction/{miss[0] if miss else 'order_labels rows'})")
        m = int(f["network"].attrs.get("input_dim", f["network/layer_1/weight"].shape[1]))
        s = float(c.attrs.get("input_scale", 1.0))
        X, y, n, step = read_data(a.data, a.x, a.y, m, a.max_mib << 20)
    except InputError as e:
        print(f"{ME}: {e}", file=sys.stderr)
        return 2
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with f:
        nl = c["facet_n"].shape[0] + 1 if kind == "polytope" else c["order_labels"].shape[0]
        panels = min(a.layers + (1 if kind == "polytope" else 0), nl)
        cols = min(3, panels)
        rows = -(-panels // cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 4.3 * rows + 0.6),
                                 squeeze=False)
        axes = axes.ravel()
        for ax in axes[panels:]:
            ax.set_visible(False)
        fn = plot_polytope if kind == "polytope" else plot_cones
        summary, ok = fn(a, f, c, X, y, step, s, list(axes[:panels]), a.grid, a.verbose)
        fig.suptitle(f"{os.path.basename(a.network)} on {os.path.basename(a.data)}"
                     + (f" (every {step}th row)" if step > 1 else ""), fontsize=11)
        fig.tight_layout(rect=(0, 0.06 if rows > 1 else 0.1, 1, 1))
        fig.savefig(a.out, dpi=100)
        plt.close(fig)
    print(f"{ME}: wrote {a.out}: {summary}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
