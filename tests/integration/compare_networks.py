#!/usr/bin/python3
"""compare_networks.py A.h5 B.h5 [C.h5 ...] [--group /network ...] [--all-attrs]

Determinism check: every dataset under each group (default /network,
recursively) must have the same dtype, shape and bytes in all files, and the
/network attributes num_layers and activation must be equal.  With
--all-attrs every attribute under the groups is compared too.  Prints each
difference; exits 0 when identical, 1 when not, 2 on usage errors."""
import argparse
import sys

import h5py
import numpy as np

KEY_ATTRS = ("num_layers", "activation")


def attr_bytes(v):
    if isinstance(v, str):
        return v.encode()
    if isinstance(v, bytes):
        return v
    arr = np.asarray(v)
    if arr.dtype.kind == "O":
        return repr(arr.tolist()).encode()
    return arr.dtype.str.encode() + repr(arr.shape).encode() + arr.tobytes()


def collect(group, prefix, all_attrs, out):
    """Map 'path' -> (dtype, shape, bytes) for datasets and
    'path@attr' -> bytes for attributes."""
    for k, v in group.attrs.items():
        if all_attrs or (prefix == "/network" and k in KEY_ATTRS):
            out[f"{prefix}@{k}"] = attr_bytes(v)
    for k in sorted(group.keys()):
        v = group[k]
        path = f"{prefix}/{k}"
        if isinstance(v, h5py.Dataset):
            arr = v[...]
            out[path] = (arr.dtype.str, arr.shape, arr.tobytes())
            if all_attrs:
                for ak, av in v.attrs.items():
                    out[f"{path}@{ak}"] = attr_bytes(av)
        else:
            collect(v, path, all_attrs, out)
    return out


def describe(item):
    if item is None:
        return "missing"
    if isinstance(item, tuple):
        return f"dtype {item[0]} shape {item[1]}"
    return "attribute"


def first_diff(a, b):
    """Where two same-shaped datasets differ, for the message."""
    try:
        x = np.frombuffer(a[2], dtype=a[0]).reshape(a[1])
        y = np.frombuffer(b[2], dtype=b[0]).reshape(b[1])
        ne = np.argwhere(x != y) if x.shape else []
        if len(ne):
            i = tuple(int(t) for t in ne[0])
            return (f"{len(ne)} elements differ, first at {list(i)}: "
                    f"{x[i]!r} vs {y[i]!r}")
    except (ValueError, TypeError):
        pass
    return "bytes differ"


def load(path, groups, all_attrs):
    out = {}
    with h5py.File(path, "r") as f:
        for gname in groups:
            g = gname.rstrip("/") or "/"
            if g not in f:
                out[f"{g}"] = None
                continue
            collect(f[g], g, all_attrs, out)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+")
    ap.add_argument("--group", action="append", default=None,
                    help="group to compare (repeatable; default /network)")
    ap.add_argument("--all-attrs", action="store_true")
    a = ap.parse_args(argv)
    if len(a.files) < 2:
        ap.print_usage()
        print("compare_networks: need at least two files")
        return 2
    groups = a.group or ["/network"]
    try:
        ref = load(a.files[0], groups, a.all_attrs)
    except OSError as e:
        print(f"compare_networks: cannot read {a.files[0]}: {e}")
        return 1
    if not any(k.startswith("/network/layer_") for k in ref) and "/network" in groups:
        print(f"compare_networks: {a.files[0]} has no /network layers")
        return 1
    bad = 0
    for p in a.files[1:]:
        try:
            other = load(p, groups, a.all_attrs)
        except OSError as e:
            print(f"compare_networks: cannot read {p}: {e}")
            bad += 1
            continue
        for key in sorted(set(ref) | set(other)):
            r, o = ref.get(key), other.get(key)
            if r == o:
                continue
            bad += 1
            if r is None or o is None or not isinstance(r, tuple) or r[:2] != o[:2]:
                print(f"compare_networks: {key}: {a.files[0]} has "
                      f"{describe(r)}, {p} has {describe(o)}")
            else:
                print(f"compare_networks: {key} differs between {a.files[0]} "
                      f"and {p}: {first_diff(r, o)}")
    n_items = len(ref)
    print(f"compare_networks: {len(a.files)} files, {n_items} items under "
          f"{', '.join(groups)}, {bad} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
