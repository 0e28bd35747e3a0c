#!/usr/bin/python3
"""trunc-dist convert, end to end: every input format made here with NumPy,
converted by the binary, and the HDF5 read back with h5py; no trunc-dist
code is involved in making or checking the files.

    convert_cases.py BIN WORK [--mpiexec CMD]

Good inputs (exit 0; X and y equal the source exactly, X's dtype float32
exactly when the source is float32 or a small integer type, else float64,
y int64, no temporaries left):
  CSV with and without a header, label column first (--label-column 0),
  last (default) and in the middle (--label-column -2), comma, tab and
  semicolon, CRLF and blank lines, gzipped; .npy float32 / float64 /
  int16 / int64 / uint8 (N, 4, 5) flattened, big-endian, Fortran order
  (plain: read by columns; gzipped: in memory), labels from .npy, text and
  IDX; .npz stored and compressed with the names X/y, x/y, data/labels,
  arr_0/arr_1 (numpy writes zip64 local headers: checked), X only with
  --labels; LIBSVM with index gaps, unsorted indices, comments, qid: and
  +1/-1 labels, gzipped; IDX ubyte image/label pairs (plain and gzipped),
  short, int, float and double.
Bad inputs (exit 2 on every rank, the expected words and line / record in
the one error line, no output, no temporary): one per error class.
A stop signal between blocks exits 6 and leaves nothing.  Output refusals: OUT is IN (exit 2, IN unchanged), OUT exists without
--force (exit 2, unchanged) and with it (replaced), a missing directory
(exit 5).  One good and one bad conversion run under mpiexec at 3 ranks.
"""
import gzip
import os
import shlex
import struct
import subprocess
import sys
import zipfile

import h5py
import numpy as np

BIN, WORK = sys.argv[1], sys.argv[2]
MPIEXEC = shlex.split(sys.argv[4]) if len(sys.argv) > 4 else ["mpiexec"]
os.makedirs(WORK, exist_ok=True)
rng = np.random.default_rng(20240610)
failures = []


def path(name):
    return os.path.join(WORK, name)


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def run(args, np_=0):
    """Convert; with np_ > 0 under mpiexec, every rank's code returned."""
    if np_ == 0:
        p = subprocess.run([BIN, "convert"] + args, capture_output=True,
                           text=True, timeout=120)
        return [p.returncode], p.stdout, p.stderr
    script = ('"$0" convert "$@"; echo $? > "%s/rc.$OMPI_COMM_WORLD_RANK"'
              % WORK)
    for r in range(np_):
        if os.path.exists(path("rc.%d" % r)):
            os.remove(path("rc.%d" % r))
    p = subprocess.run(MPIEXEC + ["--oversubscribe", "-n", str(np_), "sh",
                                  "-c", script, BIN] + args,
                       capture_output=True, text=True, timeout=120)
    rcs = [int(open(path("rc.%d" % r)).read()) for r in range(np_)]
    return rcs, p.stdout, p.stderr


def leftovers():
    return [f for f in os.listdir(WORK) if ".tmp." in f]


def good(name, inp, X, y, f32, extra=(), np_=0):
    out = path(name + ".h5")
    rcs, so, se = run([path(inp), out] + list(extra), np_)
    if any(rc != 0 for rc in rcs):
        return fail(f"{name}: exit {rcs}: {se.strip()}")
    with h5py.File(out, "r") as f:
        gx, gy = f["X"][...], f["y"][...]
    want = np.float32 if f32 else np.float64
    if gx.dtype != want:
        fail(f"{name}: X is {gx.dtype}, expected {np.dtype(want)}")
    if gy.dtype != np.int64:
        fail(f"{name}: y is {gy.dtype}, expected int64")
    X = np.asarray(X).reshape(len(X), -1)
    if gx.shape != X.shape or not np.array_equal(gx, X.astype(want)) or \
            not np.array_equal(gx.astype(np.float64), X.astype(np.float64)):
        fail(f"{name}: X differs (shape {gx.shape} vs {X.shape})")
    if not np.array_equal(gy, np.asarray(y).astype(np.int64)):
        fail(f"{name}: y differs")
    if leftovers():
        fail(f"{name}: temporaries left: {leftovers()}")
    print(f"ok {name}: {so.strip()}", flush=True)


def bad(name, inp, words, extra=(), code=2, np_=0, out=None):
    out = out or path(name + ".h5")
    rcs, so, se = run([path(inp) if not inp.startswith("/") else inp, out]
                      + list(extra), np_)
    if any(rc != code for rc in rcs):
        return fail(f"{name}: exit {rcs}, expected {code}: {se.strip()}")
    errs = [l for l in se.splitlines() if l.startswith("trunc-dist: error:")]
    if len(errs) != 1:
        fail(f"{name}: expected one error line, got: {se!r}")
    for w in words:
        if w not in se:
            fail(f"{name}: '{w}' not in: {se.strip()}")
    if os.path.exists(out) and not name.startswith("keep"):
        fail(f"{name}: output {out} was created")
    if leftovers():
        fail(f"{name}: temporaries left: {leftovers()}")
    print(f"ok {name}: {se.strip()}", flush=True)


def fmt(v):
    return repr(float(v))


def write_csv(name, rows, delim=",", header=None, crlf=False, gz=False,
              blank=False):
    nl = "\r\n" if crlf else "\n"
    lines = ([delim.join(header)] if header else []) + \
            [delim.join(r) for r in rows]
    if blank:
        lines.insert(min(3, len(lines)), "")
    text = nl.join(lines) + nl + (nl if blank else "")
    data = text.encode()
    if gz:
        data = gzip.compress(data)
    open(path(name), "wb").write(data)


def data(n, m, q=3, scale=True):
    X = rng.standard_normal((n, m))
    if scale:   # magnitudes a CSV must carry exactly
        X[0, 0], X[1, min(1, m - 1)], X[2, 0] = 1e-300, -1.7976931348623157e308, 5e-324
        X[3, 0] = 123456789.0
    y = rng.integers(0, q, n) * 7 - 3
    return X, y


# ---- CSV --------------------------------------------------------------
X, y = data(40, 5)
rows = [[fmt(v) for v in X[i]] + [str(y[i])] for i in range(len(X))]
write_csv("h.csv", rows, header=[f"f{j}" for j in range(5)] + ["label"])
good("csv_header_last", "h.csv", X, y, False)
write_csv("nh.csv", [[str(y[i])] + [fmt(v) for v in X[i]]
                     for i in range(len(X))])
good("csv_noheader_first", "nh.csv", X, y, False, ["--label-column", "0"])
# tab, label second to last (-2), CRLF, a blank line, gzipped
rows = [[fmt(v) for v in X[i, :4]] + [str(y[i]), fmt(X[i, 4])]
        for i in range(len(X))]
write_csv("t.csv.gz", rows, delim="\t", header=list("abcd") + ["y", "e"],
          crlf=True, gz=True, blank=True)
good("csv_tab_gz_crlf", "t.csv.gz", X, y, False, ["--label-column", "-2"])
write_csv("s.csv", [[fmt(v) for v in X[i]] + [f"{y[i]}.0"]
                    for i in range(len(X))], delim=";")
good("csv_semicolon_float_labels", "s.csv", X, y, False)

# ---- .npy ---------------------------------------------------------------
Xf = rng.standard_normal((300, 7)).astype(np.float32)
yf = rng.integers(0, 4, 300).astype(np.int32)
np.save(path("f4.npy"), Xf)
np.save(path("f4_y.npy"), yf)
good("npy_f4", "f4.npy", Xf, yf, True, ["--labels", path("f4_y.npy")])
Xd, yd = data(257, 3)
np.save(path("be.npy"), Xd.astype(">f8"))
np.save(path("be_y.npy"), (yd * 1000003).astype(">i8"))
good("npy_f8_bigendian", "be.npy", Xd, yd * 1000003, False,
     ["--labels", path("be_y.npy")])
Xs = rng.integers(-32768, 32767, (50, 6)).astype(np.int16)
np.save(path("i2.npy"), Xs)
with open(path("i2_y.txt"), "w") as f:   # text labels, a blank line at the end
    f.write("\n".join(str(v) for v in yf[:50]) + "\n\n")
good("npy_int16_textlabels", "i2.npy", Xs, yf[:50], True,
     ["--labels", path("i2_y.txt")])
Xl = rng.integers(-2**53, 2**53, (40, 3), dtype=np.int64)
Xl[0, 0], Xl[1, 1] = 2**53, -2**53
np.save(path("i8.npy"), Xl)
np.save(path("i8_y.npy"), yf[:40].astype(np.uint8))
good("npy_int64_2p53", "i8.npy", Xl, yf[:40], False,
     ["--labels", path("i8_y.npy")])
Xu = rng.integers(0, 256, (30, 4, 5)).astype(np.uint8)
np.save(path("u1.npy"), Xu)
np.save(path("u1_y.npy"), yf[:30].astype(np.float64))   # integral floats
good("npy_uint8_3d", "u1.npy", Xu, yf[:30], True,
     ["--labels", path("u1_y.npy")])
# Fortran order: plain (seek by columns, several blocks: 5000 x 300 f8 is
# 12 MB, the sink writes 4 MiB blocks) and gzipped (in memory)
Xb = rng.standard_normal((5000, 300))
yb = rng.integers(0, 5, 5000)
np.save(path("fo.npy"), np.asfortranarray(Xb))
np.save(path("fo_y.npy"), yb)
assert open(path("fo.npy"), "rb").read(128).find(b"'fortran_order': True") > 0
good("npy_fortran_blocks", "fo.npy", Xb, yb, False,
     ["--labels", path("fo_y.npy")])
with open(path("fo_small.npy"), "wb") as f:
    np.save(f, np.asfortranarray(Xf.astype(">f4")))
open(path("fo.npy.gz"), "wb").write(gzip.compress(open(path("fo_small.npy"), "rb").read()))
good("npy_fortran_bigendian_gz", "fo.npy.gz", Xf, yf, True,
     ["--labels", path("f4_y.npy")])

# ---- .npz ---------------------------------------------------------------
np.savez(path("plain.npz"), X=Xd, y=yd)
good("npz_plain", "plain.npz", Xd, yd, False)
with zipfile.ZipFile(path("plain.npz")) as z:
    info = z.getinfo("X.npy")
raw = open(path("plain.npz"), "rb").read()
off = info.header_offset
nlen, elen = struct.unpack("<HH", raw[off + 26:off + 30])
extra = raw[off + 30 + nlen:off + 30 + nlen + elen]
if b"\x01\x00" not in extra[:2] and struct.pack("<H", 1) not in extra:
    fail("npz_plain: numpy wrote no zip64 local header; zip64 untested")
np.savez_compressed(path("comp.npz"), x=Xf, y=yf)
good("npz_compressed_xy", "comp.npz", Xf, yf, True)
np.savez(path("dl.npz"), data=Xs, labels=yf[:50].astype(np.int16))
good("npz_data_labels", "dl.npz", Xs, yf[:50], True)
np.savez(path("arr.npz"), Xd, yd)
good("npz_arr0_arr1", "arr.npz", Xd, yd, False)
np.savez(path("fo_stored.npz"), X=np.asfortranarray(Xb[:700]), y=yb[:700])
good("npz_fortran_stored", "fo_stored.npz", Xb[:700], yb[:700], False)
np.savez_compressed(path("fo_comp.npz"), X=np.asfortranarray(Xb[:700]),
                    y=yb[:700])
good("npz_fortran_compressed", "fo_comp.npz", Xb[:700], yb[:700], False)
np.savez_compressed(path("xonly.npz"), X=Xf)
good("npz_x_only_labels", "xonly.npz", Xf, yf, True,
     ["--labels", path("f4_y.npy")])

# ---- LIBSVM ---------------------------------------------------------------
n, m = 60, 12
Xv = np.zeros((n, m))
yv = rng.choice([-1, 1], n)
lines = ["# a comment line", ""]
for i in range(n):
    idx = sorted(rng.choice(m - 1, rng.integers(0, 5), replace=False))
    if i == 7:
        idx = [m - 1]           # the largest index: M = 12
    toks = []
    for j in idx:
        Xv[i, j] = rng.standard_normal()
        toks.append(f"{j + 1}:{fmt(Xv[i, j])}")
    if i % 5 == 0:
        toks.reverse()          # unsorted indices are fine
    lab = ("+1" if yv[i] > 0 else "-1")
    q = ["qid:%d" % (i // 10)] if i % 3 == 0 else []
    lines.append(" ".join([lab] + q + toks) +
                 ("  # trailing comment" if i % 4 == 0 else ""))
open(path("a.svm"), "w").write("\n".join(lines) + "\n")
good("libsvm", "a.svm", Xv, yv, False)
open(path("a.libsvm.gz"), "wb").write(gzip.compress(open(path("a.svm"), "rb").read()))
good("libsvm_gz", "a.libsvm.gz", Xv, yv, False)
open(path("a.txt"), "w").write("\n".join(lines))   # no final newline
good("libsvm_txt", "a.txt", Xv, yv, False)


# ---- IDX --------------------------------------------------------------------
def write_idx(name, arr, code, gz=False):
    arr = np.asarray(arr)
    head = bytes([0, 0, code, arr.ndim]) + b"".join(
        struct.pack(">I", d) for d in arr.shape)
    be = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
          0x0E: ">f8"}[code]
    data = head + arr.astype(be).tobytes()
    open(path(name), "wb").write(gzip.compress(data) if gz else data)


imgs = rng.integers(0, 256, (120, 6, 5)).astype(np.uint8)
labs = rng.integers(0, 10, 120).astype(np.uint8)
write_idx("train-images-idx3-ubyte", imgs, 0x08)
write_idx("train-labels-idx1-ubyte", labs, 0x08)
good("idx_ubyte_pair", "train-images-idx3-ubyte", imgs, labs, True,
     ["--labels", path("train-labels-idx1-ubyte")])
write_idx("t10k-images-idx3-ubyte.gz", imgs, 0x08, gz=True)
write_idx("t10k-labels-idx1-ubyte.gz", labs, 0x08, gz=True)
good("idx_ubyte_pair_gz", "t10k-images-idx3-ubyte.gz", imgs, labs, True,
     ["--labels", path("t10k-labels-idx1-ubyte.gz")])
for code, arr, f32 in [(0x0B, Xs, True), (0x0C, Xs.astype(np.int32) * 70000, False),
                       (0x0D, Xf[:50], True), (0x0E, Xd[:50], False),
                       (0x09, Xs.astype(np.int8), True)]:
    nm = "v.idx2-%02x" % code
    write_idx(nm, arr, code)
    good("idx_type_%02x" % code, nm, arr, yf[:50], f32,
         ["--labels", path("i2_y.txt")])

# ---- under mpiexec: rank 0 converts, every rank exits with the agreed code
good("mpi3_csv", "h.csv", X, y, False, np_=3)

# ---- bad inputs ---------------------------------------------------------
def text(name, s):
    open(path(name), "w").write(s)


text("bad_number.csv", "a,b,y\n1,2,0\n3,4,1\n5,x7,0\n")
bad("bad_number", "bad_number.csv", ["bad_number.csv: line 4, column 1: malformed number 'x7'"])
text("bad_count.csv", "1,2,0\n3,4,1\n\n5,6,7,0\n")
bad("bad_count", "bad_count.csv", ["line 4: 4 columns, expected 3 (as on line 1"])
text("bad_label.csv", "1,2,0\n3,4,1.5\n")
bad("bad_label", "bad_label.csv", ["line 2, column 2: non-integer label '1.5'"])
text("bad_nan.csv", "1,2,0\n3,nan,1\n")
bad("bad_nan", "bad_nan.csv", ["line 2, column 1: NaN is not allowed"])
text("bad_inf.csv", "1,2,0\n3,4,1\n-inf,4,1\n")
bad("bad_inf", "bad_inf.csv", ["line 3, column 0: Inf is not allowed"])
text("bad_empty.csv", "1,2,0\n3,,1\n")
bad("bad_empty_field", "bad_empty.csv", ["line 2, column 1: empty field"])
text("bad_labcol.csv", "1,2,0\n")
bad("bad_label_column", "bad_labcol.csv", ["--label-column 5 is outside the 3 columns"],
    ["--label-column", "5"])
# a gzip stream cut short
full = gzip.compress(("\n".join("%d,%d,%d" % (i, i * i, i % 2) for i in range(20000)) + "\n").encode())
open(path("cut.csv.gz"), "wb").write(full[:len(full) // 2])
bad("bad_gzip_truncated", "cut.csv.gz", ["cut.csv.gz: truncated or corrupt"])
open(path("cut.npy.gz"), "wb").write(gzip.compress(open(path("f4.npy"), "rb").read())[:3000])
bad("bad_npy_gz_truncated", "cut.npy.gz", ["cut.npy.gz: truncated: the header promises 2100 elements of <f4, the data end in row "],
    ["--labels", path("f4_y.npy")])
Xi = Xf.copy()
Xi[2, 1] = np.inf
np.save(path("inf.npy"), Xi)
bad("bad_npy_inf", "inf.npy", ["inf.npy: row 2, column 1 (element 15): Inf is not allowed"],
    ["--labels", path("f4_y.npy")])
Xn = Xd.copy()
Xn[100, 2] = np.nan
np.savez_compressed(path("nan.npz"), X=Xn, y=yd)
bad("bad_npz_nan", "nan.npz", ["nan.npz:X.npy: row 100, column 2", "NaN"])
big = Xl.copy()
big[5, 1] = 2**53 + 1
np.save(path("big.npy"), big)
bad("bad_npy_beyond_2p53", "big.npy", ["row 5, column 1", "beyond 2^53"],
    ["--labels", path("i8_y.npy")])
rawf = open(path("f4.npy"), "rb").read()
open(path("trunc.npy"), "wb").write(rawf[:-100])
bad("bad_npy_truncated", "trunc.npy", ["trunc.npy: truncated", "row 296"],
    ["--labels", path("f4_y.npy")])
np.save(path("y299.npy"), yf[:299])
bad("bad_npy_n_mismatch", "f4.npy", ["N mismatch: X has 300 rows", "y299.npy hold 299"],
    ["--labels", path("y299.npy")])
with open(path("y49.txt"), "w") as f:
    f.write("\n".join(str(v) for v in yf[:49]) + "\n")
bad("bad_text_labels_short", "i2.npy", ["y49.txt: N mismatch: 49 labels"],
    ["--labels", path("y49.txt")])
with open(path("y51.txt"), "w") as f:
    f.write("\n".join(str(v) for v in yf[:51]) + "\n")
bad("bad_text_labels_long", "i2.npy", ["y51.txt: line 51: N mismatch: more labels than the 50 rows"],
    ["--labels", path("y51.txt")])
rawi = open(path("train-images-idx3-ubyte"), "rb").read()
open(path("cut-images-idx3-ubyte"), "wb").write(rawi[:-31])
bad("bad_idx_truncated", "cut-images-idx3-ubyte", ["truncated", "ends in record 118"],
    ["--labels", path("train-labels-idx1-ubyte")])
write_idx("short-labels-idx1-ubyte", labs[:119], 0x08)
bad("bad_idx_n_mismatch", "train-images-idx3-ubyte", ["N mismatch: 120 records", "hold 119"],
    ["--labels", path("short-labels-idx1-ubyte")])
text("dup.svm", "1 1:2 3:4\n# c\n-1 2:1 4:1 2:3\n")
bad("bad_svm_duplicate", "dup.svm", ["dup.svm: line 3: duplicate index 2"])
text("zero.svm", "1 1:2\n-1 0:1\n")
bad("bad_svm_index0", "zero.svm", ["zero.svm: line 2: index 0 is not positive"])
text("nonint.svm", "1 1:2\n1 2:1\n1.25 1:1\n")
bad("bad_svm_label", "nonint.svm", ["line 3: non-integer label '1.25'"])
text("badval.svm", "1 1:2\n1 2:abc\n")
bad("bad_svm_value", "badval.svm", ["line 2: index 2: malformed number 'abc'"])
text("data.dat", "1,2,3\n")
bad("bad_extension", "data.dat", ["data.dat: unknown extension"])
np.save(path("fo3.npy"), np.asfortranarray(rng.standard_normal((4, 3, 2))))
bad("bad_fortran_3d", "fo3.npy", ["Fortran-order array of 3 dimensions"],
    ["--labels", path("f4_y.npy")])
np.savez(path("noy.npz"), X=Xd)
bad("bad_npz_no_labels", "noy.npz", ["has X but no labels y.npy"])
bad("bad_npy_no_labels", "f4.npy", ["hold no labels: give the labels file with --labels"])
bad("bad_missing", "missing.csv", ["missing.csv: cannot open"])
# a stop signal between blocks (SIGTERM after the second of three 4 MiB
# blocks, by TD_FAULT_SIGNAL): exit 6, the temporary removed
os.environ["TD_FAULT_SIGNAL"] = "0:2:15"
bad("stopped_sigterm", "fo.npy", ["stopped by SIGTERM while converting", "nothing written"],
    ["--labels", path("fo_y.npy")], code=6)
del os.environ["TD_FAULT_SIGNAL"]
bad("mpi3_bad_number", "bad_number.csv", ["line 4, column 1"], np_=3)

# ---- output refusals --------------------------------------------------------
before = open(path("h.csv"), "rb").read()
bad("keep_out_is_in", "h.csv", ["the output is the input"], out=path("h.csv"))
if open(path("h.csv"), "rb").read() != before:
    fail("out_is_in: the input changed")
os.symlink("h.csv", path("link.h5"))
# bytes after the data a header announces (the .npy array, the IDX records)
open(path("tail.npy"), "wb").write(open(path("f4.npy"), "rb").read() + b"x")
bad("npy_trailing", "tail.npy", ["tail.npy: trailing bytes after the array"],
    ["--labels", path("f4_y.npy")], np_=3)
open(path("tail-images-idx3-ubyte"), "wb").write(
    open(path("train-images-idx3-ubyte"), "rb").read() + b"\0")
bad("idx_trailing", "tail-images-idx3-ubyte",
    ["trailing bytes after the 120 records the header announces"],
    ["--labels", path("train-labels-idx1-ubyte")])
bad("keep_out_is_in_link", "h.csv", ["the output is the input"], out=path("link.h5"))
before = open(path("csv_header_last.h5"), "rb").read()
bad("keep_exists", "nh.csv", ["csv_header_last.h5 exists: run with --force"],
    out=path("csv_header_last.h5"))
if open(path("csv_header_last.h5"), "rb").read() != before:
    fail("exists: the file changed")
os.remove(path("csv_noheader_first.h5"))
os.rename(path("csv_header_last.h5"), path("csv_noheader_first.h5"))
good("csv_noheader_first", "nh.csv", X, y, False, ["--label-column", "0", "--force"])
bad("out_dir_missing", "h.csv", ["does not exist or is not writable"], code=5,
    out=path("nodir/out.h5"))

print("convert_cases: %d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
