#!/usr/bin/python3
"""Independent check of a result's output layer kind and its section 6.2
numbers, from the stored /network and the training data only (no
trunc-dist code).

    nc_check.py NETWORK.h5 TRAIN.h5 --kind affine|linear|neural_collapse

Checks
  * /construction attr output_layer == KIND; output_rank and
    output_bias_ybar_dist agree with the stored cumulative output layer
    (output_weight, output_bias; a polytope: the exported last layer);
  * linear: b^(L) = 0 and rank W^(L) = Q; neural_collapse: b^(L) = ybar
    (= u/Q, one-hot) and rank W^(L) = Q - 1, for the cumulative parameters
    recomputed from /network by eq. (5), (6) (W^(L) = W_L ... W_1, b^(L) =
    W_L ... W_2 b_1 + ... + b_L; cone networks without reset layers) and
    for the exported last layer W_L (rank Q - 1 / Q too);
  * /neural_collapse: a NumPy forward pass keeps the penultimate features
    x^(L-1) and the outputs; class means, NC1 (within, relative), NC2
    (norm spread, max cosine deviation, ETF distance), NC3 and the
    decomposition C_N = cn_within + cn_between are recomputed (float64,
    two-pass) and compared (relative 1e-6, absolute 1e-9 of the scale).

Prints one line and exits 0, or prints each problem and exits 1."""
import argparse
import sys

import h5py
import numpy as np


def s(v):
    return v.decode() if isinstance(v, bytes) else str(v)


def forward(layers, X):
    a = X
    feats = None
    for l, (W, b) in enumerate(layers):
        a = a @ W.T + b
        if l < len(layers) - 1:
            a = np.maximum(a, 0)
            feats = a
    return feats, a


def nc_numbers(F, out, y, labels, T, WL):
    q = len(labels)
    cls = np.searchsorted(labels, y)
    means = np.array([F[cls == j].mean(0) for j in range(q)])
    within = sum(((F[cls == j] - means[j]) ** 2).sum(1).mean() for j in range(q))
    C = means - means.mean(0)
    nrm = np.linalg.norm(C, axis=1)
    G = C @ C.T
    cos = G / np.outer(nrm, nrm)
    iu = np.triu_indices(q, 1)
    E = np.eye(q) - 1.0 / q
    om = np.array([out[cls == j].mean(0) for j in range(q)])
    cw = sum(((out[cls == j] - om[j]) ** 2).sum(1).mean() for j in range(q))
    return means, {
        "nc1_within": within,
        "nc1_relative": within / (C ** 2).sum(),
        "nc2_norm_spread": nrm.std() / nrm.mean(),
        "nc2_max_cos_dev": np.abs(cos[iu] + 1.0 / (q - 1)).max(),
        "nc2_etf_dist": np.linalg.norm(G / np.linalg.norm(G) - E / np.linalg.norm(E)),
        "nc3_dual_dist": np.linalg.norm(WL / np.linalg.norm(WL) - C / np.linalg.norm(C)),
        "cn_within": cw,
        "cn_between": ((om - T) ** 2).sum(),
    }


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("network")
    ap.add_argument("train")
    ap.add_argument("--kind", required=True,
                    choices=["affine", "linear", "neural_collapse"])
    a = ap.parse_args(argv)
    bad = []
    f = h5py.File(a.network, "r")
    with h5py.File(a.train, "r") as t:
        X = t["X"][...].astype(np.float64)
        y = t["y"][...]
    g, c = f["network"], f["construction"]
    L = int(g.attrs["num_layers"])
    layers = [(g[f"layer_{l}/weight"][...], g[f"layer_{l}/bias"][...])
              for l in range(1, L + 1)]
    kinds = [s(g[f"layer_{l}"].attrs["kind"]) for l in range(1, L + 1)]
    labels, T = g["label_values"][...], g["targets"][...]
    q = len(labels)
    ybar = T.mean(0)
    if s(c.attrs["output_layer"]) != a.kind:
        bad.append(f"output_layer {s(c.attrs['output_layer'])}, expected {a.kind}")
    polytope = s(c.attrs["construction"]) == "polytope"
    if polytope:
        Wc, bc = layers[-1]
    else:
        Wc, bc = c["output_weight"][...], c["output_bias"][...]
    rank = np.linalg.matrix_rank(Wc, tol=1e-10 * np.linalg.norm(Wc, 2))
    if int(c.attrs["output_rank"]) != rank:
        bad.append(f"output_rank {int(c.attrs['output_rank'])}, NumPy {rank}")
    if abs(c.attrs["output_bias_ybar_dist"] - np.linalg.norm(bc - ybar)) > 1e-12:
        bad.append("output_bias_ybar_dist disagrees with |b - ybar|")
    # the cumulative parameters, eq. (5) and (6): W^(1) rebuilt from the
    # first cone (h, p, lambda: W^(1) = W_theta R, R = sigma (I - 2 v v^T /
    # v^T v), v = h - sigma u, sigma = -1 when sum(h) >= 0, so R h = u, b^(1) = -W^(1) p; its first M columns must be /network's
    # layer 1, a lifted network embedding x as (x, 0); a clustered one's
    # cumulative parameters live in its z-coordinates), then layers 2..L
    WL = layers[-1][0]
    want = {"linear": q, "neural_collapse": q - 1}.get(a.kind)
    if want is not None and not polytope:
        if "reset" in kinds:
            bad.append("reset layers: the test data should not need them")
        h, p0 = c["h"][0], c["p"][0]
        lam, nw = c["lambda"][0], h.shape[0]
        u = np.ones(nw) / np.sqrt(nw)
        sg = -1.0 if h.sum() >= 0 else 1.0     # include/td_cone.h: R h = u
        v = h - sg * u
        R = sg * (np.eye(nw) - 2 * np.outer(v, v) / (v @ v))
        Wcum = (lam * np.eye(nw) + (1 - lam) * np.outer(u, u)) @ R
        bcum = -Wcum @ p0
        M = X.shape[1]
        if s(c.attrs["construction"]) == "clustered":
            # the cones live in z = (U (x - xbar), t): layer 1 is W^(1) [U; 0]
            U = c["clustered/projection"][...]
            first = Wcum @ np.vstack([U, np.zeros((1, M))])
        else:
            first = Wcum[:, :M]
        if np.abs(first - layers[0][0]).max() > 1e-9 * np.abs(Wcum).max():
            bad.append("W^(1) from /construction is not /network layer 1")
        for W, b in layers[1:]:
            Wcum, bcum = W @ Wcum, W @ bcum + b
        bwant = np.zeros(q) if a.kind == "linear" else ybar
        for name, b in (("recomputed b^(L)", bcum), ("stored b^(L)", bc)):
            if np.abs(b - bwant).max() > 1e-9:
                bad.append(f"{name} {b} != {bwant}")
        if np.abs(Wcum - Wc).max() > 1e-8 * np.abs(Wc).max():
            bad.append("recomputed W^(L) != stored output_weight")
        r = np.linalg.matrix_rank(Wcum, tol=1e-9 * np.linalg.norm(Wcum, 2))
        if r != want:
            bad.append(f"rank W^(L) = W_L ... W_2 W^(1) = {r}, expected {want}")
    if want is not None:    # the exported last layer (a polytope: its b too)
        r = np.linalg.matrix_rank(WL, tol=1e-9 * np.linalg.norm(WL, 2))
        if r != want:
            bad.append(f"rank W_L = {r}, expected {want}")
        if a.kind == "neural_collapse" and not np.allclose(bc, 1.0 / q, rtol=0, atol=1e-15):
            bad.append(f"b^(L) {bc} is not u/Q")
        if a.kind == "linear" and np.any(bc != 0):
            bad.append(f"b^(L) {bc} is not 0")
    # section 6.2 on the penultimate features
    F, out = forward(layers, X)
    if "neural_collapse" not in f:
        bad.append("no /neural_collapse group")
    else:
        n = f["neural_collapse"]
        means, num = nc_numbers(F, out, y, labels, T, WL)
        scale = max(1.0, np.abs(means).max())
        sm = n["class_means_penultimate"][...]
        if sm.shape != means.shape or np.abs(sm - means).max() > 1e-9 * scale:
            bad.append(f"class_means_penultimate differ by "
                       f"{np.abs(sm - means).max() if sm.shape == means.shape else sm.shape}")
        if int(n.attrs["layer"]) != L - 1 or int(n.attrs["width"]) != F.shape[1]:
            bad.append("layer / width attrs")
        for k, v in num.items():
            got = float(n.attrs[k])
            tol = 1e-6 * abs(v) + (1e-9 * scale ** 2 if k.startswith(("nc1_w", "cn_")) else 1e-9)
            if not (abs(got - v) <= tol or (np.isnan(v) and np.isnan(got))):
                bad.append(f"{k}: stored {got:.6e}, NumPy {v:.6e}")
        if abs(n.attrs["cn_within"] + n.attrs["cn_between"]
               - f["verification"].attrs["cost_balanced"]) > 1e-12 + 1e-9 * f["verification"].attrs["cost_balanced"]:
            bad.append("cn_within + cn_between != cost_balanced")
    for b in bad:
        print(f"nc_check: FAIL: {a.network}: {b}")
    if bad:
        return 1
    n = f["neural_collapse"].attrs
    print(f"nc_check: {a.network}: {a.kind} rank {rank}, NC1 {n['nc1_within']:.3e} "
          f"NC2 spread {n['nc2_norm_spread']:.3e} cos {n['nc2_max_cos_dev']:.3e} "
          f"ETF {n['nc2_etf_dist']:.3e} NC3 {n['nc3_dual_dist']:.3e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
