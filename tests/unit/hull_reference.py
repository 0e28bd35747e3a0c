#!/usr/bin/python3
"""Independent check of the hull solver (td-hull-driver) in NumPy/SciPy.

    hull_reference.py DRIVER [--only NAME ...] [--random N [--seed S]]

Every instance is seeded.  For each answer it checks, from the raw points
and the returned weights only:
  * alpha, beta are convex weights and u, v are their points;
  * dist equals |sum beta b - sum alpha a| (extended precision, rounding
    allowed for);
  * the hyperplane normal to that difference separates the classes with
    margin >= lower, and so does the caller's (v - u) / dist, each up to the
    rounding that representing the direction in doubles costs;
  * the true hull distance lies in [lower, dist]: bracketed by construction
    (hull_instances.tight) or by SciPy's SLSQP on the two simplices, and
    dist - lower <= gap * dist on a GAP exit;
  * on a MEET exit the certificate coincides within meet_tol * scale and
    HiGHS finds no strictly separating hyperplane; on a GAP exit (margin at
    least 1e-5 of the radius: below that the LP's tolerances blur it) it
    finds one.
--random N adds N random constructed instances (degenerate and tight mixes;
a soak test, not part of ctest).  Exits 1 if any check fails."""
import argparse
import os
import sys

import numpy as np
from scipy.optimize import linprog, minimize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hull_instances as hi  # noqa: E402

EPS = np.finfo(float).eps
GAP, MEET = 1, 2
LD = np.longdouble


def centred_ld(A, B):
    c = np.vstack([A, B]).mean(axis=0)
    return A.astype(LD) - c, B.astype(LD) - c


def weights_ok(name, w, errs):
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        errs.append(f"{name} has negative or non-finite weights")
    elif abs(w.sum() - 1) > 1e-12:
        errs.append(f"{name} sums to 1 + {w.sum() - 1:.2e}")


def margin_of(Al, Bl, w):
    """min_B <w, b> - max_A <w, a> over |w|, in extended precision."""
    wl = np.asarray(w, dtype=LD)
    wl = wl / np.sqrt((wl * wl).sum())
    return float((Bl @ wl).min() - (Al @ wl).max())


def direction_slack(A, B, al, be, scale, dist):
    """How far the margin of a direction may move when it is carried by
    double weights (or double points u, v): eps times the magnitudes summed,
    over dist, times the extent of the points along any direction."""
    k = np.count_nonzero(al) + np.count_nonzero(be)
    return 8 * EPS * (1 + np.sqrt(k)) * scale * 2 * scale / max(dist, 1e-300)


def check_points(A, B, r, errs):
    """u, v are alpha's and beta's points; dist is their distance."""
    Al, Bl = centred_ld(A, B)
    x = (r["beta"] @ Bl) - (r["alpha"] @ Al)
    d_ref = float(np.sqrt((x * x).sum()))
    k = np.count_nonzero(r["alpha"]) + np.count_nonzero(r["beta"])
    tol = 16 * EPS * (1 + np.sqrt(k)) * r["scale"] + 1e-9 * r["dist"]
    if abs(r["dist"] - d_ref) > tol:
        errs.append(f"dist {r['dist']:.17g} != |sum beta b - sum alpha a| "
                    f"{d_ref:.17g}")
    big = np.abs(np.vstack([A, B])).max() + r["scale"]
    for nm, pt, ref in (("u", r["u"], r["alpha"] @ A), ("v", r["v"], r["beta"] @ B)):
        if np.abs(pt - ref).max() > 64 * EPS * big * (1 + np.sqrt(k)) + 1e-9 * r["dist"]:
            errs.append(f"{nm} is not the weighted point")
    return Al, Bl, x, d_ref


def check_margins(A, B, r, Al, Bl, x, d_ref, errs):
    """Hyperplanes from the weights and from (u, v) keep margin >= lower."""
    if r["converged"] == MEET or d_ref == 0:
        return
    slack = direction_slack(A, B, r["alpha"], r["beta"], r["scale"], d_ref)
    mw = margin_of(Al, Bl, x)
    if mw < r["lower"] - slack:
        errs.append(f"weights' hyperplane margin {mw:.6g} < lower "
                    f"{r['lower']:.6g} (slack {slack:.2g})")
    big = np.abs(np.vstack([A, B])).max()
    k = np.count_nonzero(r["alpha"]) + np.count_nonzero(r["beta"])
    slack_uv = slack + 8 * EPS * big * np.sqrt(A.shape[1]) * 2 * r["scale"] / d_ref
    muv = margin_of(Al, Bl, r["v"] - r["u"])
    if muv < r["lower"] - slack_uv:
        errs.append(f"(v - u) hyperplane margin {muv:.6g} < lower "
                    f"{r['lower']:.6g} (slack {slack_uv:.2g}, k {k})")


def strictly_separable(A, B, rhs):
    """HiGHS: is there (w, c) with <w, a> <= c - rhs, <w, b> >= c + rhs,
    points centred and divided by their radius?  rhs (relative to the
    radius) should be near the margin expected, so that |w| stays near 1;
    HiGHS's tolerances (1e-7) make rhs below ~1e-6 meaningless.  Returns
    True, False, or None when HiGHS cannot decide."""
    c0 = np.vstack([A, B]).mean(axis=0)
    Ac, Bc = A - c0, B - c0
    R = max(np.abs(Ac).max(), np.abs(Bc).max())
    m = A.shape[1]
    Aub = np.vstack([np.hstack([Ac / R, -np.ones((len(A), 1))]),
                     np.hstack([-Bc / R, np.ones((len(B), 1))])])
    for method in ("highs-ipm", "highs-ds"):    # ds can crawl on these
        res = linprog(np.zeros(m + 1), A_ub=Aub,
                      b_ub=-rhs * np.ones(len(A) + len(B)),
                      bounds=[(None, None)] * (m + 1), method=method,
                      options={"time_limit": 30.0})
        if res.status in (0, 2):
            return res.status == 0
    return None


def slsqp_bracket(A, B):
    """Bounds on the hull distance from SLSQP on the two simplices: the
    distance of its (feasible) pair and the margin of their direction."""
    na, nb = len(A), len(B)
    def f(z):
        d = z[na:] @ B - z[:na] @ A
        g = np.concatenate([-(A @ d), B @ d]) * 2
        return d @ d, g
    z0 = np.concatenate([np.full(na, 1 / na), np.full(nb, 1 / nb)])
    cons = [{"type": "eq", "fun": lambda z: z[:na].sum() - 1},
            {"type": "eq", "fun": lambda z: z[na:].sum() - 1}]
    res = minimize(f, z0, jac=True, bounds=[(0, None)] * (na + nb),
                   constraints=cons, method="SLSQP",
                   options={"ftol": 1e-20, "maxiter": 2000})
    z = np.clip(res.x, 0, None)
    al, be = z[:na] / z[:na].sum(), z[na:] / z[na:].sum()
    Al, Bl = centred_ld(A, B)
    x = be @ Bl - al @ Al
    upper = float(np.sqrt((x * x).sum()))
    return margin_of(Al, Bl, x), upper


def check_truth(r, bracket, gap, errs):
    """True distance in [L, U] (independent) must meet [lower, dist]."""
    lo, up = bracket
    tol = 64 * EPS * r["scale"]
    if r["lower"] > up * (1 + 1e-12) + tol:
        errs.append(f"lower {r['lower']:.17g} exceeds the true distance "
                    f"(<= {up:.17g})")
    if r["dist"] < lo * (1 - 1e-12) - tol:
        errs.append(f"dist {r['dist']:.17g} is below the true distance "
                    f"(>= {lo:.17g})")
    if r["converged"] == GAP and lo > 0 and r["dist"] - lo > gap * r["dist"] * 1.001 + tol:
        errs.append(f"dist - true >= {(r['dist'] - lo) / r['dist']:.3g} dist "
                    f"> gap {gap:g}")


def check(A, B, r, expect, bracket, gap, meet_tol):
    errs = []
    if r["rc"] != 0:
        return [f"driver returned {r['rc']}"]
    if r["converged"] not in expect:
        errs.append(f"exit {r['converged']}, expected one of {expect}")
    n = len(errs)
    weights_ok("alpha", r["alpha"], errs)
    weights_ok("beta", r["beta"], errs)
    if len(errs) > n:
        return errs
    Al, Bl, x, d_ref = check_points(A, B, r, errs)
    check_margins(A, B, r, Al, Bl, x, d_ref, errs)
    if r["converged"] == GAP and r["dist"] - r["lower"] > gap * r["dist"]:
        errs.append("GAP exit with dist - lower > gap * dist")
    if bracket is not None:
        check_truth(r, bracket, gap, errs)
    if r["converged"] == MEET:
        if d_ref > meet_tol * r["scale"] + 16 * EPS * r["scale"]:
            errs.append(f"MEET certificate is {d_ref / r['scale']:.3g} scale apart")
        sep = strictly_separable(A, B, 1e-4)
        if sep is not False:
            errs.append(f"MEET, but HiGHS {'separates the classes' if sep else 'cannot decide'}")
    elif r["converged"] == GAP and r["lower"] > 1e-5 * r["scale"]:
        sep = strictly_separable(A, B, r["lower"] / (4 * r["scale"]))
        if sep is not True:
            errs.append(f"GAP with lower > 0, but HiGHS "
                        f"{'finds no separator' if sep is False else 'cannot decide'}")
    return errs


def small(seed, m, shift):
    A, B = hi.gaussian_pair(20 + seed % 7, m, shift, seed)
    return A, B, slsqp_bracket(A, B)


def touching(seed):
    """Overlapping boxes sharing a point: the hulls meet."""
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((40, 6)), rng.standard_normal((50, 6)) + 0.5
    B[7] = A[3]
    return A, B, None


def rank_deficient_meet(seed):
    """Both classes on one 3-dimensional affine subspace of R^50."""
    rng = np.random.default_rng(seed)
    basis = np.linalg.qr(rng.standard_normal((50, 3)))[0]
    A = rng.standard_normal((80, 3)) @ basis.T + 7.0
    B = (rng.standard_normal((90, 3)) * 0.5) @ basis.T + 7.0
    return A, B, None


def reversed_rows(inst):
    """The same instance with its rows reversed: the supporting pairs come
    last, outside a warm-start prefix."""
    A, B, bracket = inst
    return A[::-1].copy(), B[::-1].copy(), bracket


T = hi.tight
CASES = {     # name: (generator -> (A, B, bracket), expected exits, options)
    "small_m1": (lambda: small(1, 1, 8.0), {GAP}, {}),
    "small_m2": (lambda: small(2, 2, 7.0), {GAP}, {}),
    "small_m3": (lambda: small(3, 3, 6.0), {GAP}, {}),
    "small_m5_gap1e-6": (lambda: small(4, 5, 6.0), {GAP}, {"gap": 1e-6}),
    "small_m4_overlap": (lambda: small(5, 4, 1.0), {MEET}, {}),
    "single_points": (lambda: (np.array([[1.0, 2.0, 3.0]]),
                               np.array([[1.5, 2.0, 2.0]]),
                               (np.sqrt(1.25), np.sqrt(1.25))), {GAP}, {}),
    "tight_1e-4_dups": (lambda: T(400, 10, 1e-4, 5, pairs=30, dup=20), {GAP}, {}),
    "tight_1e-6_scaled_offset": (lambda: T(300, 20, 1e-6, 2, feat_scale=3,
                                           offset=1e3), {GAP}, {}),
    "tight_1e-8_m5": (lambda: T(200, 5, 1e-8, 1), {GAP}, {}),
    "tight_1e-8_scaled": (lambda: T(500, 30, 1e-8, 4, feat_scale=3), {GAP}, {}),
    "tight_1e-8_offset": (lambda: T(300, 8, 1e-8, 7, feat_scale=3, offset=1e3),
                          {GAP}, {}),
    "degenerate_rank4_m60": (lambda: T(300, 60, 1e-6, 3, rank=4, dup=10,
                                       const_cols=5, offset=100), {GAP}, {}),
    "degenerate_rank10_m100": (lambda: T(1000, 100, 1e-8, 6, rank=10, pairs=20,
                                         const_cols=10, offset=10), {GAP}, {}),
    "many_on_margin_m30": (lambda: T(600, 30, 1e-7, 11, pairs=300, dup=40),
                           {GAP}, {}),
    "warm_prefix": (lambda: reversed_rows(T(800, 40, 1e-6, 12, pairs=20)),
                    {GAP}, {"prefix": (300, 300)}),
    "meet_gauss": (lambda: (*hi.gaussian_meet(200, 10, 13), None), {MEET}, {}),
    "meet_touching": (lambda: touching(14), {MEET}, {}),
    "meet_rank3_m50": (lambda: rank_deficient_meet(15), {MEET}, {}),
    "cap_max_iter_1": (lambda: T(300, 20, 1e-6, 16), {0, GAP}, {"max_iter": 1}),
    "breast_cancer": (lambda: (*hi.breast_cancer(), None), {GAP}, {}),
    "digits_8_vs_rest": (lambda: (*hi.digits_one_vs_rest(8), None), {MEET}, {}),
}


def random_cases(n, seed=2024):
    """n random mixes of the constructed instances' features."""
    rng = np.random.default_rng(seed)
    out = {}
    for k in range(n):
        m = int(rng.choice([3, 10, 40, 120]))
        kw = dict(n=int(rng.choice([50, 300, 1200])), m=m,
                  margin=float(rng.choice([1e-2, 1e-4, 1e-6, 1e-8])),
                  seed=int(rng.integers(1 << 30)),
                  rank=int(rng.choice([m, max(1, m // 5)])),
                  pairs=int(rng.choice([1, 5, 40])), dup=int(rng.choice([0, 10])),
                  const_cols=int(rng.choice([0, min(3, m - 1)])),
                  feat_scale=float(rng.choice([0, 3])),
                  offset=float(rng.choice([0, 1e3])))
        # gap * distance / radius must stay above ~1e-12: finer is beyond
        # a double-precision factorisation (a stall is then the answer)
        gap = float(rng.choice([1e-3, 1e-6])) if kw["margin"] >= 1e-6 else 1e-3
        out[f"random_{k}"] = ((lambda kw=kw: T(**kw)), {GAP}, {"gap": gap}, kw)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("driver")
    ap.add_argument("--only", nargs="+", default=list(CASES))
    ap.add_argument("--random", type=int, default=0)
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()
    cases = dict(CASES)
    extra = random_cases(args.random, args.seed)
    cases.update({k: v[:3] for k, v in extra.items()})
    names = args.only + list(extra)
    failed = 0
    for name in names:
        gen, expect, opts = cases[name]
        A, B, bracket = gen()
        gap, meet_tol = opts.get("gap", 1e-3), opts.get("meet_tol", 1e-10)
        r = hi.solve(args.driver, A, B, gap=gap, meet_tol=meet_tol,
                     max_iter=opts.get("max_iter", 0),
                     prefix=opts.get("prefix", (0, 0)))
        errs = check(A, B, r, expect, bracket, gap, meet_tol)
        failed += bool(errs)
        print(f"{'FAIL' if errs else 'ok  '} {name:<26} exit={r['converged']} "
              f"iters={r['iters']} dist/scale={r['dist'] / r['scale']:.3g} "
              f"gap={(r['dist'] - r['lower']) / max(r['dist'], 1e-300):.2g}")
        for e in errs + ([f"{extra[name][3]}"] if errs and name in extra else []):
            print(f"     {e}")
    print(f"{failed} of {len(names)} instances failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
