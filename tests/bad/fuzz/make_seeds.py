#!/usr/bin/python3
"""Writes the h5probe seed corpus (seeds/h5probe/*.h5): small files that
pass td_h5_probe or fail it in different places, for the fuzzer to mutate.

    make_seeds.py [DIR]      (default: seeds/h5probe next to this script)

Deterministic; the files are kept in git (a few KiB each), rerun only to
change them."""
import os
import sys

import h5py
import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "seeds",
                                                          "h5probe")
os.makedirs(out, exist_ok=True)
x = np.arange(8, dtype=np.float64).reshape(4, 2)
y = np.array([0, 1, 0, 1], dtype=np.int64)


def write(name, build, **kw):
    with h5py.File(os.path.join(out, name), "w", **kw) as f:
        build(f)


def good(f):
    f["X"] = x
    f["y"] = y


write("good_f64_i64.h5", good)
write("good_latest_format.h5", good, libver="latest")
write("good_f32_u8.h5", lambda f: (f.create_dataset("X", data=x.astype("f4")),
                                   f.create_dataset("y", data=y.astype("u1"))))
write("good_chunked_gzip.h5", lambda f: (
    f.create_dataset("X", data=x, chunks=(2, 2), compression="gzip"),
    f.create_dataset("y", data=y, chunks=(2,), shuffle=True,
                     fletcher32=True)))
write("good_bigendian_soft.h5", lambda f: (
    f.create_dataset("data/X", data=x.astype(">f8")),
    f.__setitem__("X", h5py.SoftLink("/data/X")),
    f.create_dataset("y", data=y.astype(">i4"))))
write("x_group_y_attr.h5", lambda f: (f.create_group("X"),
                                      f.create_dataset("y", data=y),
                                      f["y"].attrs.__setitem__("a", 1)))
write("x_external.h5", lambda f: (
    f.__setitem__("X", h5py.ExternalLink("other.h5", "/X")),
    f.create_dataset("y", data=y)))
write("shape_mismatch_u64.h5", lambda f: (
    f.create_dataset("X", data=x[:3]),
    f.create_dataset("y", data=y.astype("u8"))))
write("x_compound_y_enum.h5", lambda f: (
    f.create_dataset("X", data=np.zeros(4, dtype=[("a", "f8"), ("b", "i2")])),
    f.create_dataset("y", data=y > 0)))
print(f"make_seeds.py: {len(os.listdir(out))} files in {out}")
