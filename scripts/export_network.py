#!/usr/bin/python3
"""Export the plain ReLU network of a trunc-dist result to NumPy, PyTorch or
ONNX.

    scripts/export_network.py NETWORK.h5 OUT.npz   [--force]
    scripts/export_network.py NETWORK.h5 OUT.pt    [--force]
    scripts/export_network.py NETWORK.h5 OUT.onnx  [--force] [--external-data]

The format follows OUT's extension.  Only the documented /network group of
the result is read (io/README.md): layers l = 1..L, W_l of shape (out, in),
b_l, ReLU after every layer except the last, `label_values` (the label of
output coordinate j) and the one-hot `targets`.  Every format holds the
float64 weights exactly as stored (bit for bit), and the network takes x as
stored in the training file (the first weight matrix carries any
`input_scale`).

.npz    layer_001_weight, layer_001_bias, ... (zero-padded to at least three
        digits, so sorted names are layer order), num_layers, layer_kinds,
        activation_rule, label_values, targets, input_dim, output_dim,
        construction, format.  No pickles: np.load(path) reads it.  Written
        layer by layer (one layer in memory at a time).
        Loader: load_npz(path) and forward_npz(net, X) below.
.pt     torch.save of a dict: `state_dict` of an nn.Sequential (Linear,
        ReLU, ..., Linear; keys "0.weight", "0.bias", "2.weight", ...),
        `layer_shapes` [[out, in], ...], label_values, targets, layer_kinds,
        activation_rule, format.  Loader: load_trunc_dist(path) below
        rebuilds the float64 nn.Sequential.  Saving maps the HDF5 layers
        instead of reading them (contiguous datasets); loading holds the
        whole network in memory, as torch does.
.onnx   a graph input "input" (N, M) float64; per layer Gemm(transB = 1,
        the weights as stored) and Relu, the last Gemm's result is output
        "output" (N, Q); with one-hot targets also "label" (N,) int64, the
        label of the nearest target (= ArgMax of output, gathered from
        label_values).  Opset 13.  The model is checked with
        onnx.checker.check_model, read back, every initializer compared
        bit for bit with the HDF5 layer, and the graph run in NumPy on the
        class means against the HDF5 network.  ONNX files are protobufs,
        limited to 2 GiB: larger networks (or --external-data) keep the
        tensors in OUT.data beside OUT (ONNX external data, written layer
        by layer), which onnx.load and ONNX Runtime read from the model's
        directory.

OUT is written to a temporary name and renamed when complete; an existing
OUT is replaced only with --force.  Errors (not a trunc-dist result, an
unknown extension, an existing OUT) print one line naming the file and exit
2; other failures exit 1.

Use from Python (the loaders need only this file):

    import sys; sys.path.insert(0, "scripts")
    from export_network import load_npz, forward_npz, load_trunc_dist
    net = load_npz("net.npz"); out = forward_npz(net, X)
    model, labels, targets = load_trunc_dist("net.pt")   # torch float64
    pred = labels[model(torch.as_tensor(X)).argmax(1)]
"""
import argparse
import json
import os
import sys
import tempfile
import zipfile
from collections import OrderedDict

import numpy as np

from td_result import InputError, text

ME = "export_network"
FORMATS = (".npz", ".pt", ".onnx")
ACTIVATION_RULE = "relu after every layer except the last"
NPZ_FORMAT = "trunc-dist npz 1"
PT_FORMAT = "trunc-dist pt 1"
ONNX_FORMAT = "trunc-dist onnx 1"
ONNX_OPSET = 13
# serialized ONNX protobufs must stay below 2 GiB; leave room for the graph
ONNX_EMBED_LIMIT = 1800 * 1024 * 1024


def npz_layer_name(l, L, part):
    """Name of layer l's weight or bias (part) in the .npz of an L-layer net."""
    return f"layer_{l:0{max(3, len(str(L)))}d}_{part}"


# --- the HDF5 side -----------------------------------------------------------

class Network:
    """The /network group of a trunc-dist result, read layer by layer.

    layer(l) returns (W_l, b_l) as float64 arrays; for the uncompressed,
    contiguous little-endian datasets trunc-dist writes, W_l is a read-only
    memory map of the file (no copy; pages are read as they are used)."""

    def __init__(self, path):
        import h5py
        self.path = path
        if not os.path.exists(path):
            raise InputError(f"{path}: cannot open: No such file or directory")
        if os.path.isdir(path):
            raise InputError(f"{path}: cannot open: is a directory")
        try:
            self.f = h5py.File(path, "r")
        except (OSError, ValueError) as e:
            msg = str(e)
            if "signature" in msg:
                msg = "not an HDF5 file"
            raise InputError(f"{path}: cannot open: {msg.splitlines()[0]}") from None
        try:
            self._read_header()
        except InputError:
            self.f.close()
            raise

    def _bad(self, why):
        return InputError(f"{self.path}: not a trunc-dist result ({why})")

    def _read_header(self):
        f = self.f
        if "network" not in f or not hasattr(f["network"], "attrs"):
            raise self._bad("no /network group")
        g = self.g = f["network"]
        if "num_layers" not in g.attrs:
            raise self._bad("/network has no num_layers")
        L = self.L = int(g.attrs["num_layers"])
        if L < 1:
            raise self._bad("/network has no layers (num_layers = 0)")
        act = text(g.attrs.get("activation", "relu"))
        if act != "relu":
            raise self._bad(f"activation {act!r}, expected 'relu'")
        for name in ("label_values", "targets"):
            if name not in g:
                raise self._bad(f"no /network/{name}")
        self.label_values = g["label_values"][...].astype(np.int64)
        self.targets = g["targets"][...].astype(np.float64)
        q = self.label_values.size
        self.shapes, self.kinds = [], []
        d_prev = None
        for l in range(1, L + 1):
            grp = g.get(f"layer_{l}")
            if grp is None or "weight" not in grp or "bias" not in grp:
                raise self._bad(f"no /network/layer_{l}/weight or bias")
            w, b = grp["weight"], grp["bias"]
            if w.ndim != 2 or b.shape != (w.shape[0],):
                raise self._bad(f"layer_{l}: weight {w.shape}, bias {b.shape}")
            if d_prev is not None and w.shape[1] != d_prev:
                raise self._bad(f"layer_{l} takes {w.shape[1]} inputs, "
                                f"layer_{l - 1} gives {d_prev}")
            if w.dtype.kind != "f" or b.dtype.kind != "f":
                raise self._bad(f"layer_{l}: non-float weights")
            self.shapes.append((int(w.shape[0]), int(w.shape[1])))
            self.kinds.append(text(grp.attrs.get("kind", "")))
            d_prev = w.shape[0]
        if self.shapes[-1][0] != q or self.targets.shape != (q, q):
            raise self._bad(f"output width {self.shapes[-1][0]}, "
                            f"{q} labels, targets {self.targets.shape}")
        self.input_dim = self.shapes[0][1]
        self.output_dim = q
        c = f.get("construction")
        self.construction = (text(c.attrs.get("construction", "theorem6"))
                             if c is not None else "")
        self.nparams = sum(o * i + o for o, i in self.shapes)

    def widths(self):
        """'2 -> 5 (x78) -> 3': the layer widths, runs compressed."""
        runs = []
        for d in [self.input_dim] + [o for o, _ in self.shapes]:
            if runs and runs[-1][0] == d:
                runs[-1][1] += 1
            else:
                runs.append([d, 1])
        if len(runs) > 6:                       # reset layers alternate widths
            hidden = sorted({o for o, _ in self.shapes[:-1]})
            return (f"{self.input_dim} -> {self.L - 1} hidden of width "
                    f"{' or '.join(map(str, hidden))} -> {self.output_dim}")
        return " -> ".join(f"{d}" if k == 1 else f"{d} (x{k})" for d, k in runs)

    def _array(self, ds):
        off = ds.id.get_offset()
        if (off is not None and ds.chunks is None and ds.compression is None
                and ds.dtype == np.dtype("<f8") and ds.size > 0):
            return np.memmap(self.path, dtype="<f8", mode="r", offset=off,
                             shape=ds.shape, order="C")
        return np.ascontiguousarray(ds[...], dtype=np.float64)

    def layer(self, l):
        grp = self.g[f"layer_{l}"]
        return self._array(grp["weight"]), self._array(grp["bias"])

    def probes(self):
        """A few inputs to compare forward passes on: the class means in the
        data's units (the /construction geometry is in units of
        input_scale), else the origin."""
        c = self.f.get("construction")
        if c is not None and "class_means" in c and \
                c["class_means"].shape[-1] == self.input_dim:
            s = float(c.attrs.get("input_scale", 1.0))
            return np.ascontiguousarray(c["class_means"][...] / s)
        return np.zeros((1, self.input_dim))

    def forward(self, X):
        a = np.asarray(X, dtype=np.float64)
        for l in range(1, self.L + 1):
            W, b = self.layer(l)
            a = a @ W.T + b
            if l < self.L:
                a = np.maximum(a, 0.0)
        return a

    def close(self):
        self.f.close()


# --- .npz --------------------------------------------------------------------

def write_npz(net, out):
    """One .npy member per array, written into the zip one at a time (what
    np.savez does, without holding every array at once)."""
    def put(zf, name, arr):
        with zf.open(name + ".npy", "w", force_zip64=True) as fh:
            np.lib.format.write_array(fh, np.asanyarray(arr), allow_pickle=False)

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED,
                         allowZip64=True) as zf:
        put(zf, "format", np.array(NPZ_FORMAT))
        put(zf, "num_layers", np.array(net.L, dtype=np.int64))
        put(zf, "layer_kinds", np.array(net.kinds))
        put(zf, "activation_rule", np.array(ACTIVATION_RULE))
        put(zf, "input_dim", np.array(net.input_dim, dtype=np.int64))
        put(zf, "output_dim", np.array(net.output_dim, dtype=np.int64))
        put(zf, "construction", np.array(net.construction))
        put(zf, "label_values", net.label_values)
        put(zf, "targets", net.targets)
        for l in range(1, net.L + 1):
            W, b = net.layer(l)
            put(zf, npz_layer_name(l, net.L, "weight"), W)
            put(zf, npz_layer_name(l, net.L, "bias"), b)


def load_npz(path):
    """Read an exported .npz: a dict with `weights` and `biases` (lists in
    layer order), `label_values`, `targets` and `activation_rule`."""
    with np.load(path, allow_pickle=False) as z:
        if "format" not in z.files or str(z["format"]) != NPZ_FORMAT:
            raise ValueError(f"{path}: not a trunc-dist .npz export")
        L = int(z["num_layers"])
        return {
            "weights": [z[npz_layer_name(l, L, "weight")] for l in range(1, L + 1)],
            "biases": [z[npz_layer_name(l, L, "bias")] for l in range(1, L + 1)],
            "label_values": z["label_values"],
            "targets": z["targets"],
            "activation_rule": str(z["activation_rule"]),
        }


def forward_npz(net, X):
    """Network output for the rows of X (N, M): relu(W a + b) per layer, no
    relu after the last."""
    a = np.asarray(X, dtype=np.float64)
    L = len(net["weights"])
    for l, (W, b) in enumerate(zip(net["weights"], net["biases"]), 1):
        a = a @ W.T + b
        if l < L:
            a = np.maximum(a, 0.0)
    return a


def predict_npz(net, X):
    """Label of the nearest target for each row of X."""
    a = forward_npz(net, X)
    T = net["targets"]
    d2 = (a * a).sum(1)[:, None] - 2.0 * a @ T.T + (T * T).sum(1)[None, :]
    return net["label_values"][np.argmin(d2, axis=1)]


# --- .pt ---------------------------------------------------------------------

def write_pt(net, out):
    import torch
    sd = OrderedDict()
    for l in range(1, net.L + 1):
        W, b = net.layer(l)
        # copy-on-write maps: torch wants writable arrays, nothing is written
        if isinstance(W, np.memmap):
            W = np.memmap(W.filename, dtype="<f8", mode="c", offset=W.offset,
                          shape=W.shape)
        if isinstance(b, np.memmap):
            b = np.memmap(b.filename, dtype="<f8", mode="c", offset=b.offset,
                          shape=b.shape)
        sd[f"{2 * (l - 1)}.weight"] = torch.from_numpy(W)
        sd[f"{2 * (l - 1)}.bias"] = torch.from_numpy(b)
    torch.save({
        "format": PT_FORMAT,
        "state_dict": sd,
        "layer_shapes": [[o, i] for o, i in net.shapes],
        "layer_kinds": list(net.kinds),
        "activation_rule": ACTIVATION_RULE,
        "label_values": torch.from_numpy(net.label_values.copy()),
        "targets": torch.from_numpy(net.targets.copy()),
        "construction": net.construction,
    }, out)


def load_trunc_dist(path, map_location="cpu"):
    """Rebuild the network of a .pt export: (model, label_values, targets),
    model a float64 torch.nn.Sequential (Linear, ReLU, ..., Linear) in eval
    mode.  The predicted label of x is label_values[model(x).argmax(1)]
    (the targets are one-hot)."""
    import torch
    try:
        d = torch.load(path, map_location=map_location, weights_only=True)
    except TypeError:                       # torch without weights_only
        d = torch.load(path, map_location=map_location)
    if not isinstance(d, dict) or d.get("format") != PT_FORMAT:
        raise ValueError(f"{path}: not a trunc-dist .pt export")
    layers = []
    shapes = d["layer_shapes"]
    for i, (o, n_in) in enumerate(shapes):
        layers.append(torch.nn.Linear(int(n_in), int(o), dtype=torch.float64))
        if i < len(shapes) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    model.load_state_dict(d["state_dict"])
    model.eval()
    return model, d["label_values"], d["targets"]


# --- .onnx -------------------------------------------------------------------

def write_onnx(net, out, final_out, external):
    """Write the graph to `out` (a temporary name).  With external data the
    tensors go to `out + '.data'` while the model names the file beside
    final_out; returns that temporary data path (or None)."""
    from onnx import TensorProto, helper, numpy_helper

    inits, nodes = [], []
    data_tmp = None
    data_name = os.path.basename(final_out) + ".data"
    fh = open(out + ".data", "wb") if external else None
    if fh is not None:
        data_tmp = out + ".data"

    def tensor(name, arr):
        arr = np.ascontiguousarray(arr, dtype="<f8")
        if fh is None:
            return numpy_helper.from_array(arr, name)
        t = TensorProto()
        t.name = name
        t.data_type = TensorProto.DOUBLE
        t.dims.extend(arr.shape)
        t.data_location = TensorProto.EXTERNAL
        off = fh.tell()
        # a layer at a time, in slabs of rows (bounded memory for the copy)
        step = max(1, (64 << 20) // max(1, arr.itemsize * (arr.shape[-1] if arr.ndim else 1)))
        if arr.ndim == 2:
            for r in range(0, arr.shape[0], step):
                fh.write(np.ascontiguousarray(arr[r:r + step]).tobytes())
        else:
            fh.write(arr.tobytes())
        for k, v in (("location", data_name), ("offset", str(off)),
                     ("length", str(fh.tell() - off))):
            e = t.external_data.add()
            e.key, e.value = k, v
        return t

    try:
        a = "input"
        for l in range(1, net.L + 1):
            W, b = net.layer(l)
            wn, bn = f"layer_{l}.weight", f"layer_{l}.bias"
            inits += [tensor(wn, W), tensor(bn, b)]
            z = "output" if l == net.L else f"layer_{l}.linear"
            nodes.append(helper.make_node("Gemm", [a, wn, bn], [z],
                                          name=f"layer_{l}.gemm", transB=1))
            if l < net.L:
                a = f"layer_{l}.relu"
                nodes.append(helper.make_node("Relu", [z], [a],
                                              name=f"layer_{l}.relu"))
    finally:
        if fh is not None:
            fh.close()
    outputs = [helper.make_tensor_value_info("output", TensorProto.DOUBLE,
                                             ["N", net.output_dim])]
    if np.array_equal(net.targets, np.eye(net.output_dim)):
        # nearest one-hot target = largest output coordinate
        inits.append(numpy_helper.from_array(net.label_values, "label_values"))
        nodes.append(helper.make_node("ArgMax", ["output"], ["class_index"],
                                      name="nearest_target", axis=1, keepdims=0))
        nodes.append(helper.make_node("Gather", ["label_values", "class_index"],
                                      ["label"], name="label", axis=0))
        outputs.append(helper.make_tensor_value_info("label", TensorProto.INT64,
                                                     ["N"]))
    graph = helper.make_graph(
        nodes, "trunc_dist",
        [helper.make_tensor_value_info("input", TensorProto.DOUBLE,
                                       ["N", net.input_dim])],
        outputs, initializer=inits)
    model = helper.make_model(graph, producer_name="trunc-dist export_network.py",
                              opset_imports=[helper.make_opsetid("", ONNX_OPSET)])
    meta = {"format": ONNX_FORMAT, "activation_rule": ACTIVATION_RULE,
            "label_values": json.dumps(net.label_values.tolist()),
            "targets": json.dumps(net.targets.tolist()),
            "layer_kinds": json.dumps(net.kinds),
            "construction": net.construction}
    for k, v in meta.items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    with open(out, "wb") as f:
        f.write(model.SerializeToString())
    return data_tmp


def onnx_initializers(path):
    """The initializers of an ONNX file as NumPy arrays, by name; tensors in
    external data are memory-mapped from their file (nothing loaded whole)."""
    import onnx
    from onnx import TensorProto, numpy_helper
    model = onnx.load(path, load_external_data=False)
    base = os.path.dirname(os.path.abspath(path))
    arrays = {}
    for t in model.graph.initializer:
        if t.data_location == TensorProto.EXTERNAL:
            info = {e.key: e.value for e in t.external_data}
            if t.data_type != TensorProto.DOUBLE:
                raise ValueError(f"{path}: external tensor {t.name} is not double")
            arrays[t.name] = np.memmap(
                os.path.join(base, info["location"]), dtype="<f8", mode="r",
                offset=int(info.get("offset", 0)), shape=tuple(t.dims))
        else:
            arrays[t.name] = numpy_helper.to_array(t)
    return model, arrays


def onnx_run_numpy(path, X):
    """Run an exported ONNX graph in NumPy (the ops export_network writes:
    Gemm, MatMul, Add, Relu, ArgMax, Gather); returns {output name: array}."""
    model, env = onnx_initializers(path)
    env = dict(env)
    env[model.graph.input[0].name] = np.asarray(X, dtype=np.float64)
    for node in model.graph.node:
        at = {a.name: a for a in node.attribute}
        i = [env[n] for n in node.input]
        if node.op_type == "Gemm":
            A, B = i[0], i[1]
            if "transA" in at and at["transA"].i:
                A = A.T
            if "transB" in at and at["transB"].i:
                B = B.T
            alpha = at["alpha"].f if "alpha" in at else 1.0
            beta = at["beta"].f if "beta" in at else 1.0
            r = A @ B if alpha == 1.0 else alpha * (A @ B)
            if len(i) > 2:
                r = r + (i[2] if beta == 1.0 else beta * i[2])
        elif node.op_type == "MatMul":
            r = i[0] @ i[1]
        elif node.op_type == "Add":
            r = i[0] + i[1]
        elif node.op_type == "Relu":
            r = np.maximum(i[0], 0.0)
        elif node.op_type == "ArgMax":
            ax = at["axis"].i if "axis" in at else 0
            r = np.argmax(i[0], axis=ax).astype(np.int64)
            if "keepdims" not in at or at["keepdims"].i:
                r = np.expand_dims(r, ax)
        elif node.op_type == "Gather":
            r = np.take(i[0], i[1], axis=at["axis"].i if "axis" in at else 0)
        else:
            raise ValueError(f"{path}: op {node.op_type} not supported here")
        env[node.output[0]] = r
    return {o.name: env[o.name] for o in model.graph.output}


def check_onnx(net, path):
    """onnx.checker, then the exported weights read back and run in NumPy.
    Returns a summary; raises RuntimeError on any difference."""
    import onnx
    onnx.checker.check_model(path)          # a path: external data allowed
    model, arrays = onnx_initializers(path)
    for l in range(1, net.L + 1):
        W, b = net.layer(l)
        for name, ref in ((f"layer_{l}.weight", W), (f"layer_{l}.bias", b)):
            got = arrays.get(name)
            if got is None or got.shape != ref.shape or got.dtype != np.float64 \
                    or np.ascontiguousarray(got).tobytes() != \
                    np.ascontiguousarray(ref, dtype="<f8").tobytes():
                raise RuntimeError(f"{path}: initializer {name} differs from "
                                   f"{net.path} /network/layer_{l}")
    P = net.probes()
    res = onnx_run_numpy(path, P)
    ref = net.forward(P)
    diff = float(np.abs(res["output"] - ref).max())
    if diff != 0.0:
        raise RuntimeError(f"{path}: NumPy run of the graph differs from the "
                           f"HDF5 network by {diff:.3e} on the class means")
    if "label" in res:
        want = net.label_values[np.argmax(ref, axis=1)]
        if not np.array_equal(res["label"], want):
            raise RuntimeError(f"{path}: the graph's label output differs")
    return (f"onnx.checker ok; {2 * net.L} initializers equal the HDF5 "
            f"layers bit for bit; the graph run in NumPy on {P.shape[0]} "
            f"class means equals the HDF5 network")


# --- command line ------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="export_network.py", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("network", help="a trunc-dist result (HDF5)")
    ap.add_argument("out", help="OUT.npz, OUT.pt or OUT.onnx")
    ap.add_argument("--force", action="store_true", help="replace an existing OUT")
    ap.add_argument("--external-data", action="store_true",
                    help=".onnx: keep the tensors in OUT.data (automatic above "
                         f"{ONNX_EMBED_LIMIT >> 20} MiB)")
    a = ap.parse_args(argv)

    net = None
    tmp = data_tmp = None
    try:
        ext = os.path.splitext(a.out)[1].lower()
        if ext not in FORMATS:
            raise InputError(f"{a.out}: unknown extension "
                             f"{repr(ext) if ext else 'none'} (expected "
                             f".npz, .pt or .onnx)")
        if a.external_data and ext != ".onnx":
            raise InputError(f"{a.out}: --external-data is for .onnx only")
        if os.path.isdir(a.out):
            raise InputError(f"{a.out}: is a directory")
        outdir = os.path.dirname(os.path.abspath(a.out))
        if not os.path.isdir(outdir):
            raise InputError(f"{a.out}: directory {outdir} does not exist")
        if os.path.exists(a.network) and os.path.exists(a.out) and \
                os.path.samefile(a.network, a.out):
            raise InputError(f"{a.out}: is the network file")
        if os.path.exists(a.out) and not a.force:
            raise InputError(f"{a.out}: exists (--force replaces it)")
        if ext == ".pt":
            try:
                import torch  # noqa: F401
            except ImportError:
                raise InputError(f"{a.out}: .pt needs PyTorch "
                                 "(Debian: apt-get install python3-torch)") from None
        if ext == ".onnx":
            try:
                import onnx  # noqa: F401
            except ImportError:
                raise InputError(f"{a.out}: .onnx needs the onnx package "
                                 "(Debian: apt-get install python3-onnx)") from None

        net = Network(a.network)
        nbytes = 8 * net.nparams
        external = a.external_data
        if ext == ".onnx" and not external and nbytes > ONNX_EMBED_LIMIT:
            external = True
            print(f"{ME}: {nbytes / 2**20:.0f} MiB of weights is beyond what "
                  f"an ONNX protobuf holds (2 GiB): tensors go to "
                  f"{a.out}.data", flush=True)
        if external and os.path.exists(a.out + ".data") and not a.force:
            raise InputError(f"{a.out}.data: exists (--force replaces it)")
        fd, tmp = tempfile.mkstemp(prefix=os.path.basename(a.out) + ".",
                                   suffix=".tmp", dir=outdir)
        os.close(fd)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)           # as open() would create OUT
        note = ""
        if ext == ".npz":
            write_npz(net, tmp)
        elif ext == ".pt":
            write_pt(net, tmp)
        else:
            data_tmp = write_onnx(net, tmp, a.out, external)
            if data_tmp is not None:
                # the model names its data file beside OUT: put it there
                # before the check reads it (removed again on failure)
                os.replace(data_tmp, a.out + ".data")
                data_tmp = a.out + ".data"
            note = "; " + check_onnx(net, tmp)
        os.replace(tmp, a.out)
        tmp = data_tmp = None
        size = os.path.getsize(a.out) + (os.path.getsize(a.out + ".data")
                                         if ext == ".onnx" and external else 0)
        print(f"{ME}: wrote {a.out} ({net.L} layers, widths "
              f"{net.widths()}, {net.nparams} "
              f"parameters, {size / 2**20:.2f} MiB){note}")
        return 0
    except InputError as e:
        print(f"{ME}: {e}", file=sys.stderr)
        return 2
    except (RuntimeError, OSError, ValueError) as e:
        print(f"{ME}: {a.out}: {e}", file=sys.stderr)
        return 1
    finally:
        for t in (tmp, data_tmp):
            if t is not None and os.path.exists(t):
                os.remove(t)
        if net is not None:
            net.close()


if __name__ == "__main__":
    sys.exit(main())
