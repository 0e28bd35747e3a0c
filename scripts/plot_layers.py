#!/usr/bin/python3
"""Per-layer picture of what a trunc-dist network keeps and collapses.

    scripts/plot_layers.py NETWORK.h5 OUT.png [--title TEXT]

Reads the /construction group of a result (io/README.md) and draws, as a PNG
(matplotlib, Agg backend):

  cone layers (theorem6, lifted, pieces)
    top     rows each layer collapses (n_collapsed), coloured by the class it
            collapses, and rows in neither cone (n_mixed, best effort only);
    bottom  rows of every class still active after each layer (class counts
            minus what the layers collapsed so far), the layer's own class
            marked at n_class_left, and all active rows (n_kept).
  polytope
    top     outer rows each facet covers first (facet_n) and the share of the
            outer class covered so far;
    bottom  each facet's half gap (facet_gap).

Prints one line per layer with --verbose and a summary line.  A file that is
not a trunc-dist result, or OUT not ending in .png, exits 2 with one line
naming the file.
"""
import argparse
import os
import sys

import numpy as np

from td_result import InputError, open_h5, text

ME = "plot_layers"


def open_result(path):
    """(h5py file, /construction group, construction kind), or InputError."""
    f = open_h5(path)
    c = f.get("construction")
    if "network" not in f or c is None or not hasattr(c, "attrs"):
        f.close()
        raise InputError(f"{path}: not a trunc-dist result (no /network and "
                         f"/construction groups)")
    kind = text(c.attrs.get("construction", "theorem6"))
    need = (("facet_n", "facet_gap") if kind == "polytope" else
            ("order_labels", "n_kept", "n_collapsed", "n_class_left",
             "class_counts"))
    missing = [n for n in need if n not in c]
    if missing:
        f.close()
        raise InputError(f"{path}: not a trunc-dist result (no "
                         f"/construction/{missing[0]})")
    return f, c, kind


def class_colours(q):
    import matplotlib
    if q <= 10:
        cmap = matplotlib.colormaps["tab10"]
        return [cmap(i) for i in range(q)]
    if q <= 20:
        cmap = matplotlib.colormaps["tab20"]
        return [cmap(i) for i in range(q)]
    cmap = matplotlib.colormaps["turbo"]
    return [cmap(i / (q - 1)) for i in range(q)]


def layer_ticks(ax, n, labels=None):
    x = np.arange(1, n + 1)
    if n <= 30:
        ax.set_xticks(x)
        if labels is not None:
            ax.set_xticklabels([f"{i}\n({int(v)})" for i, v in zip(x, labels)],
                               fontsize=8)
    ax.set_xlim(0.4, n + 0.6)


def plot_cones(f, c, kind, ax1, ax2, verbose):
    """The layer table: returns a summary string."""
    labels = f["network/label_values"][...].astype(np.int64)
    q = labels.size
    order = c["order_labels"][...].astype(np.int64)
    n = order.size
    cls = np.searchsorted(labels, order)
    kept = c["n_kept"][...].astype(np.int64)
    coll = c["n_collapsed"][...].astype(np.int64)
    left = c["n_class_left"][...].astype(np.int64)
    mixed = (c["n_mixed"][...].astype(np.int64) if "n_mixed" in c
             else np.zeros(n, np.int64))
    counts = c["class_counts"][...].astype(np.int64)
    col = class_colours(q)
    x = np.arange(1, n + 1)

    # rows of each class still active after layer l
    active = np.empty((n + 1, q), np.int64)
    active[0] = counts
    for l in range(n):
        active[l + 1] = active[l]
        active[l + 1, cls[l]] -= coll[l]
    bad = [l + 1 for l in range(n) if active[l + 1, cls[l]] != left[l]
           or active[l + 1].sum() != kept[l]]

    ax1.bar(x, coll, color=[col[k] for k in cls], width=0.8 if n <= 60 else 1.0,
            edgecolor="none")
    if mixed.any():
        ax1.bar(x, mixed, bottom=coll, color="none", edgecolor="red",
                hatch="///", label="in neither cone (n_mixed)")
        ax1.legend(loc="upper right", fontsize=8)
    ax1.set_ylabel("rows collapsed")
    ax1.set_title(f"rows each layer collapses, coloured by class "
                  f"({n} cone layers, {kind})", fontsize=10)
    layer_ticks(ax1, n, order)

    xs = np.arange(0, n + 1)
    for k in range(q):
        ax2.step(xs, active[:, k], where="post", color=col[k], lw=1.5,
                 label=f"class {labels[k]}")
    for k in range(q):
        sel = cls == k
        if sel.any():
            ax2.plot(x[sel], left[sel], "o", color=col[k], ms=4 if n <= 60 else 2,
                     mec="k", mew=0.4)
    ax2.step(xs, np.concatenate(([counts.sum()], kept)), where="post",
             color="k", lw=1, ls="--", label="all active rows (n_kept)")
    ax2.set_xlabel("layer (class collapsed)" if n <= 30 else "layer")
    ax2.set_ylabel("rows still active")
    ax2.set_title("rows of each class still active after each layer "
                  "(dots: n_class_left of the layer's class)", fontsize=10)
    layer_ticks(ax2, n, order)
    ax2.set_xlim(-0.2, n + 0.6)
    ax2.legend(fontsize=8, ncol=max(1, (q + 1) // 8), loc="upper right")

    if verbose:
        for l in range(n):
            print(f"{ME}: layer {l + 1}: class {order[l]}, {coll[l]} collapsed, "
                  f"{left[l]} of the class left, {kept[l]} kept, {mixed[l]} mixed")
    if mixed.any():                  # best effort: rows on the wrong side
        note = f"; {int(mixed.sum())} rows in neither cone (best effort)"
    elif bad:
        note = (f"; the counts disagree at layer {bad[0]} (n_class_left or "
                f"n_kept vs the class counts)")
    else:
        note = "; n_class_left and n_kept agree with the class counts"
    return f"{n} cone layers ({kind}), {int(coll.sum())} rows collapsed{note}"


def plot_polytope(f, c, ax1, ax2, verbose):
    fn = c["facet_n"][...].astype(np.int64)
    gap = c["facet_gap"][...].astype(np.float64)
    k = fn.size
    x = np.arange(1, k + 1)
    inner, outer = int(c.attrs.get("inner_label", 0)), int(c.attrs.get("outer_label", 0))
    ax1.bar(x, fn, color="tab:orange", width=0.8 if k <= 60 else 1.0)
    ax1.set_ylabel(f"class {outer} rows covered first")
    ax1.set_title(f"polytope: {k} facets of class {outer} around class {inner}",
                  fontsize=10)
    tw = ax1.twinx()
    tot = max(int(fn.sum()), 1)
    tw.plot(x, np.cumsum(fn) / tot, "k.-", lw=1)
    tw.set_ylim(0, 1.05)
    tw.set_ylabel("share of the outer class covered")
    layer_ticks(ax1, k)
    ax2.bar(x, gap, color="tab:blue", width=0.8 if k <= 60 else 1.0)
    if np.all(gap > 0) and gap.max() / gap.min() > 100:
        ax2.set_yscale("log")
    ax2.set_xlabel("facet")
    ax2.set_ylabel("half gap")
    ax2.set_title("each facet's half gap (distance of the rows to its "
                  "hyperplane, at least)", fontsize=10)
    layer_ticks(ax2, k)
    if verbose:
        for i in range(k):
            print(f"{ME}: facet {i + 1}: {fn[i]} rows first, half gap {gap[i]:.3g}")
    return f"{k} facets, {int(fn.sum())} outer rows covered"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="plot_layers.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("network")
    ap.add_argument("out", help="OUT.png")
    ap.add_argument("--title", default=None)
    ap.add_argument("--verbose", action="store_true", help="a line per layer")
    a = ap.parse_args(argv)
    try:
        if not a.out.lower().endswith(".png"):
            raise InputError(f"{a.out}: the picture is written as PNG: "
                             f"name it OUT.png")
        outdir = os.path.dirname(os.path.abspath(a.out))
        if not os.path.isdir(outdir):
            raise InputError(f"{a.out}: directory {outdir} does not exist")
        f, c, kind = open_result(a.network)
    except InputError as e:
        print(f"{ME}: {e}", file=sys.stderr)
        return 2
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with f:
        n = c["facet_n"].shape[0] if kind == "polytope" else c["order_labels"].shape[0]
        fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(max(8, min(16, 4 + 0.25 * n)), 8),
                                       sharex=False)
        if kind == "polytope":
            summary = plot_polytope(f, c, ax1, ax2, a.verbose)
        else:
            summary = plot_cones(f, c, kind, ax1, ax2, a.verbose)
        fig.suptitle(a.title or os.path.basename(a.network))
        fig.tight_layout()
        fig.savefig(a.out, dpi=110)
        plt.close(fig)
    print(f"{ME}: wrote {a.out}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
