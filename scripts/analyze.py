#!/usr/bin/python3
"""Summarise a trunc-dist result file.

    scripts/analyze.py network.h5 [--plot out.png]

Prints the network shape, the per-layer construction table (class collapsed,
cone angle theta and its lower bound theta_min, lambda, cond(W) = 1/lambda,
the numerical margins of kept and collapsed points, point counts, separator
status), the output layer, the verification report and the run record.
With --plot, draws margins and lambda / cond per layer (matplotlib, Agg).
Reads only the documented file layout; missing items are shown as '-'."""
import argparse
import sys

import h5py
import numpy as np


def s(v):
    if isinstance(v, bytes):
        return v.decode(errors="replace")
    if isinstance(v, np.ndarray) and v.shape == ():
        return s(v[()])
    return v


def col(g, name, n):
    if g is not None and name in g and g[name].ndim == 1 and g[name].shape[0] == n:
        return g[name][...]
    return None


def fmt(v, kind):
    if v is None:
        return "-"
    if kind == "i":
        return str(int(v))
    v = float(v)
    if kind == "f":
        return f"{v:.4f}"
    return f"{v:.3g}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("network")
    ap.add_argument("--plot", metavar="OUT.png")
    a = ap.parse_args(argv)
    try:
        f = h5py.File(a.network, "r")
    except OSError as e:
        print(f"analyze: cannot open {a.network}: {e}", file=sys.stderr)
        return 1
    with f:
        if "network" not in f:
            print(f"analyze: {a.network} has no /network group", file=sys.stderr)
            return 1
        net = f["network"]
        L = int(net.attrs.get("num_layers", 0))
        dims = []
        for l in range(1, L + 1):
            w = net.get(f"layer_{l}/weight")
            if w is not None:
                if not dims:
                    dims.append(w.shape[1])
                dims.append(w.shape[0])
        labels = net["label_values"][...] if "label_values" in net else None
        nparam = sum(net[f"layer_{l}/weight"].size + net[f"layer_{l}/bias"].size
                     for l in range(1, L + 1) if f"layer_{l}" in net)
        print(f"network: {a.network}")
        # long runs of equal widths (deep lifted networks) print compressed
        runs = []
        for d in dims:
            if runs and runs[-1][0] == d:
                runs[-1][1] += 1
            else:
                runs.append([d, 1])
        shown = " -> ".join(f"{d}" if k == 1 else f"{d} (x{k})" for d, k in runs)
        print(f"  {L} layers, widths {shown}, "
              f"{nparam} parameters, activation {s(net.attrs.get('activation', '?'))}")
        if labels is not None:
            print(f"  output coordinate j <-> label {labels.tolist()}")

        c = f.get("construction")
        kind = s(c.attrs.get("construction", "theorem6")) if c is not None else ""
        if c is not None and "construction" in c.attrs:
            print(f"  construction {kind}, width "
                  f"{int(c.attrs['width'])}, parameters "
                  f"{int(c.attrs.get('params_dense', nparam))} dense, "
                  f"{int(c.attrs.get('params_geometric', 0))} geometric")
            if "construction_reason" in c.attrs:
                print(f"  why: {s(c.attrs['construction_reason'])[:300]}")
        if kind == "polytope":
            # facets of the outer class against the inner one
            gap = c["facet_gap"][...]
            nf = c["facet_n"][...]
            print(f"  inner label {int(c.attrs['inner_label'])}, outer label "
                  f"{int(c.attrs['outer_label'])}, {gap.size} facets")
            print("   facet  rows covered first   half gap")
            for i in range(gap.size):
                print(f"   {i + 1:5d}  {int(nf[i]):18d}  {gap[i]:9.3g}")
        elif c is not None:
            ol = c.get("order_labels")
            n = ol.shape[0] if ol is not None else max(L - 1, 0)
            rows = [
                ("l", None, "i"),
                ("label", col(c, "order_labels", n), "i"),
                ("theta", col(c, "theta", n), "f"),
                ("theta_min", col(c, "theta_min", n), "f"),
                ("lambda", col(c, "lambda", n), "g"),
                ("cond", col(c, "cond", n), "g"),
                ("margin_kept", col(c, "margin_kept", n), "g"),
                ("margin_coll", col(c, "margin_collapsed", n), "g"),
                ("geo_margin", col(c, "geo_margin", n), "g"),
                ("n_kept", col(c, "n_kept", n), "i"),
                ("n_collapsed", col(c, "n_collapsed", n), "i"),
                ("class_left", col(c, "n_class_left", n), "i"),
                ("sep", col(c, "sep_status", n), "i"),
            ]
            table = [[h for h, _, _ in rows]]
            for i in range(n):
                table.append([str(i + 1) if h == "l" else
                              fmt(None if v is None else v[i], k)
                              for h, v, k in rows])
            width = [max(len(r[j]) for r in table) for j in range(len(rows))]
            print("construction (layer l collapses class 'label'):")
            for r in table:
                print("  " + "  ".join(x.rjust(w) for x, w in zip(r, width)))
            at = c.attrs
            extras = [f"{k} {s(at[k]):.4g}" if isinstance(s(at[k]), float)
                      else f"{k} {s(at[k])}" for k in
                      ("theta_n", "output_uses_bias", "output_cond",
                       "separator_solves", "backtracks", "data_passes",
                       "sequentially_separable") if k in at]
            if extras:
                print("  " + ", ".join(extras))
            if "sep_status_codes" in at:
                print(f"  sep status: {s(at['sep_status_codes'])}")

        v = f.get("verification")
        if v is not None:
            va = v.attrs
            form = {"cost": ".3e", "max_error": ".3e", "accuracy": ".6f"}
            print("verification: " + ", ".join(
                f"{k} {s(va[k]):{form[k]}}" if k in form else f"{k} {s(va[k])}"
                for k in ("cost", "max_error", "n_points", "n_correct", "accuracy")
                if k in va))
        r = f.get("run")
        if r is not None:
            ra = r.attrs
            print("run: " + ", ".join(f"{k} {s(ra[k])}" for k in
                                      ("version", "status", "nranks", "nthreads",
                                       "block_rows", "kappa", "data_path")
                                      if k in ra))

        if a.plot:
            if c is None or "order_labels" not in c:
                print("analyze: no /construction table to plot", file=sys.stderr)
                return 1
            n = c["order_labels"].shape[0]
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
            x = np.arange(1, n + 1)
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
            for name, lab in (("margin_kept", "kept margin"),
                              ("margin_collapsed", "collapsed margin"),
                              ("geo_margin", "geometric margin")):
                y = col(c, name, n)
                if y is not None:
                    ax1.plot(x, y, "o-", label=lab)
            ax1.axhline(0.0, color="k", lw=0.5)
            ax1.set_xlabel("layer")
            ax1.set_title("margins per layer")
            ax1.legend()
            for name, lab in (("lambda", "lambda"), ("lambda_max", "lambda_max"),
                              ("cond", "cond(W) = 1/lambda")):
                y = col(c, name, n)
                if y is not None and np.all(y > 0):
                    ax2.semilogy(x, y, "o-", label=lab)
            ax2.set_xlabel("layer")
            ax2.set_title("conditioning per layer")
            ax2.legend()
            labs = c["order_labels"][...]
            for ax in (ax1, ax2):
                ax.set_xticks(x)
                ax.set_xticklabels([f"{i}\n({int(lv)})" for i, lv in zip(x, labs)])
            fig.suptitle(a.network)
            fig.tight_layout()
            fig.savefig(a.plot, dpi=120)
            print(f"analyze: wrote {a.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
