#!/usr/bin/python3
"""The corpus of bad inputs: one small directory per case.

    gen_cases.py OUTDIR [--group G ...] [--list]

Every case is a directory OUTDIR/<name>/ holding a config (config.toml
unless the case says otherwise) and whatever files the case needs, plus
OUTDIR/cases.json, the manifest run_corpus.py reads:

    {"name", "group", "expect" (exit code), "msgs" (substrings the single
     "trunc-dist: error:" line must hold), "config" (the argument given to
     trunc-dist, relative to the case directory), "np" (rank counts),
     "preload" (a shared object to LD_PRELOAD, "" for none)}

Data cases use N = 60 rows in blocks of 4 (parallel.block_rows = 4): 15
blocks, 5 per rank at 3 ranks (rows 0-19, 20-39, 40-59), so a bad value
can be put on a chosen rank.  Everything is deterministic (no randomness
beyond numpy.random.default_rng(0)); the files are a few KiB each.

Groups: files (the data path), data (the input contract), config (syntax,
keys, types), range (every numeric key beyond its bounds), output (the
result path), paths (long paths), write (the result cannot be written),
targets (construction.targets and data.targets_dataset), fuzz (inputs the
fuzzers found, tests/bad/fuzz/findings).
"""
import argparse
import json
import os
import shutil
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
N, M, BLOCK = 60, 3, 4

# --------------------------------------------------------------------------
# data files


def good_xy(n=N, m=M, q=3):
    """Q well separated clusters, labels 0..Q-1 (row i has class i mod Q)."""
    rng = np.random.default_rng(0)
    y = np.arange(n) % q
    centres = 10.0 * np.eye(max(q, m))[:q, :m]
    x = centres[y] + 0.1 * rng.standard_normal((n, m))
    return x, y.astype(np.int64)


def write_h5(path, **datasets):
    with h5py.File(path, "w") as f:
        for name, value in datasets.items():
            f.create_dataset(name, data=value)


def good_file(path, **override):
    x, y = good_xy()
    d = {"X": x, "y": y}
    d.update(override)
    write_h5(path, **{k: v for k, v in d.items() if v is not None})


# --------------------------------------------------------------------------
# configs

def config(data="train.h5", out="network.h5", data_extra="", extra="",
           block=BLOCK):
    """A config with the given [data] path and [output] path; data_extra goes
    into [data], extra after [output] (it may open further tables)."""
    s = f'[data]\npath = "{data}"\n'
    if data_extra:
        s += data_extra.rstrip("\n") + "\n"
    if block is not None:
        s += f"[parallel]\nblock_rows = {block}\n"
    s += f'[output]\npath = "{out}"\n'
    if extra:
        s += extra.rstrip("\n") + "\n"
    return s


# --------------------------------------------------------------------------
# the cases

CASES = []


def case(name, group, expect, msgs, make, config_arg="config.toml",
         nps=(1, 3), preload="", env=None, args=None):
    CASES.append(dict(name=name, group=group, expect=expect, msgs=list(msgs),
                      make=make, config=config_arg, np=list(nps),
                      preload=preload, env=dict(env or {}),
                      args=list(args or [])))


def with_config(text, data_fn=None):
    """make(d): write config.toml (text) and, if given, data_fn(d)."""
    def make(d):
        if data_fn:
            data_fn(d)
        with open(os.path.join(d, "config.toml"), "w") as f:
            f.write(text)
    return make


def good_data(d):
    good_file(os.path.join(d, "train.h5"))


# ---- files: what data.path points at -------------------------------------

def truncated(d):
    p = os.path.join(d, "train.h5")
    good_file(p)
    size = os.path.getsize(p)
    with open(p, "r+b") as f:
        f.truncate(size // 2)


def text_file(d):
    with open(os.path.join(d, "train.h5"), "w") as f:
        f.write("x0,x1,x2,y\n1,2,3,0\n")


def empty_file(d):
    open(os.path.join(d, "train.h5"), "w").close()


def dangling_symlink(d):
    os.symlink("gone.h5", os.path.join(d, "train.h5"))


def symlink_loop(d):
    os.symlink("train.h5", os.path.join(d, "train.h5"))


def directory(d):
    os.mkdir(os.path.join(d, "train.h5"))


def fifo(d):
    os.mkfifo(os.path.join(d, "train.h5"))


def garbage_after_signature(d):
    """The HDF5 signature, then noise: a file that claims to be HDF5."""
    p = os.path.join(d, "train.h5")
    good_file(p)
    with open(p, "r+b") as f:
        f.seek(8)
        f.write(bytes(range(200, 256)) * 2)


def x_group(d):
    with h5py.File(os.path.join(d, "train.h5"), "w") as f:
        f.create_group("X")
        f.create_dataset("y", data=good_xy()[1])


def x_soft_dangling(d):
    with h5py.File(os.path.join(d, "train.h5"), "w") as f:
        f["X"] = h5py.SoftLink("/features/gone")
        f.create_dataset("y", data=good_xy()[1])


def x_external_dangling(d):
    with h5py.File(os.path.join(d, "train.h5"), "w") as f:
        f["X"] = h5py.ExternalLink("other.h5", "/X")
        f.create_dataset("y", data=good_xy()[1])


def x_soft_ok(d):
    """A soft link to a real dataset is fine; y is missing instead."""
    with h5py.File(os.path.join(d, "train.h5"), "w") as f:
        f.create_dataset("data/X", data=good_xy()[0])
        f["X"] = h5py.SoftLink("/data/X")


def x_datatype(d):
    with h5py.File(os.path.join(d, "train.h5"), "w") as f:
        f["X"] = np.dtype("f8")           # a committed datatype
        f.create_dataset("y", data=good_xy()[1])


case("missing_file", "files", 2,
     ["missing.h5", "cannot open", "No such file or directory"],
     with_config(config(data="missing.h5")))
case("truncated_file", "files", 2, ["train.h5", "truncated"],
     with_config(config(), truncated))
case("not_hdf5", "files", 2, ["train.h5", "not an HDF5 file"],
     with_config(config(), text_file))
case("empty_file", "files", 2, ["train.h5", "empty"],
     with_config(config(), empty_file))
case("dangling_symlink", "files", 2,
     ["train.h5", "dangling symbolic link", "gone.h5"],
     with_config(config(), dangling_symlink))
case("symlink_loop", "files", 2, ["train.h5", "symbolic links"],
     with_config(config(), symlink_loop))
case("directory_as_data", "files", 2, ["train.h5", "is a directory"],
     with_config(config(), directory))
case("fifo_as_data", "files", 2, ["train.h5", "not a regular file"],
     with_config(config(), fifo))
case("corrupt_superblock", "files", 2, ["train.h5", "corrupt"],
     with_config(config(), garbage_after_signature))
case("x_is_group", "files", 2, ["train.h5", "'X' is a group, not a dataset"],
     with_config(config(), x_group))
case("x_dangling_soft_link", "files", 2,
     ["train.h5", "'X' is a soft link to '/features/gone'", "does not exist"],
     with_config(config(), x_soft_dangling))
case("x_dangling_external_link", "files", 2,
     ["train.h5", "'X' is an external link to 'other.h5:/X'"],
     with_config(config(), x_external_dangling))
case("x_soft_link_y_missing", "files", 2, ["train.h5", "no dataset 'y'"],
     with_config(config(), x_soft_ok))
case("x_is_datatype", "files", 2, ["train.h5", "'X' is a named datatype"],
     with_config(config(), x_datatype))
case("missing_group", "files", 2, ["train.h5", "no dataset 'grp/X'"],
     with_config(config(data_extra='x_dataset = "grp/X"'), good_data))
case("dataset_root", "files", 2, ["train.h5", "'/' is a group"],
     with_config(config(data_extra='x_dataset = "/"'), good_data))

# trunc-dist eval NETWORK DATA: the network file gets the same checks
# (the FIFO hung every rank); the data goes through the same reader.


def eval_case(name, msgs, make_net):
    def make(d):
        good_data(d)
        make_net(d)
    case(name, "files", 2, msgs, make, args=["eval", "net.h5", "train.h5"])


case("eval_path_dangling", "files", 2, ["eval.path 'test.h5'"],
     with_config(config(extra='[eval]\npath = "test.h5"'), lambda d: (
         good_data(d), os.symlink("gone.h5", os.path.join(d, "test.h5")))))
eval_case("eval_network_missing",
          ["net.h5: cannot open: No such file or directory"], lambda d: None)
eval_case("eval_network_fifo", ["net.h5: cannot open: not a regular file"],
          lambda d: os.mkfifo(os.path.join(d, "net.h5")))
eval_case("eval_network_dangling_symlink",
          ["net.h5: cannot open: dangling symbolic link to 'old/net.h5'"],
          lambda d: os.symlink("old/net.h5", os.path.join(d, "net.h5")))
eval_case("eval_network_is_data", ["net.h5: not a trunc-dist result"],
          lambda d: good_file(os.path.join(d, "net.h5")))
eval_case("eval_network_text", ["net.h5: not an HDF5 file"],
          lambda d: open(os.path.join(d, "net.h5"), "w").write("weights\n"))
# a file whose metadata crashes HDF5 1.10 (a fuzz finding): rank 0 reads
# the network first in a child process, so every rank exits 2 saying so
eval_case("eval_network_hdf5_crash",
          ["net.h5: corrupt HDF5 file: the HDF5 library crashed reading it"],
          lambda d: shutil.copyfile(
              os.path.join(HERE, "fuzz", "findings", "h5probe",
                           "hdf5_segv_accum_read.h5"),
              os.path.join(d, "net.h5")))

# ---- data: the input contract --------------------------------------------

x0, y0 = good_xy()


def data_case(name, expect, msgs, **override):
    case(name, "data", expect, msgs,
         with_config(config(), lambda d: good_file(
             os.path.join(d, "train.h5"), **override)))


def nonfinite(value, row, col, dtype=np.float64):
    x = x0.astype(dtype)
    x[row, col] = value
    return x


data_case("x_rank1", 2, ["train.h5", "'X' has rank 1, expected 2"],
          X=x0[:, 0])
data_case("x_rank3", 2, ["train.h5", "'X' has rank 3, expected 2"],
          X=x0.reshape(N, M, 1))
data_case("y_rank2", 2, ["train.h5", "'y' has rank 2, expected 1"],
          y=y0.reshape(N, 1))
data_case("y_scalar", 2, ["train.h5", "'y' has rank 0, expected 1"],
          y=np.int64(3))
data_case("rows_differ", 2, ["train.h5", "'X' has 60 rows but 'y' has 59"],
          y=y0[:59])
data_case("x_string", 2, ["train.h5", "'X' must hold floating-point",
                          "found string data"],
          X=np.array([[b"1.0"] * M] * N))
data_case("x_integer", 2, ["train.h5", "found integer data"],
          X=np.round(x0).astype(np.int32))
data_case("x_compound", 2, ["train.h5", "found compound data"],
          X=np.zeros((N, M), dtype=[("a", "f8"), ("b", "i4")]))
data_case("y_float_fraction", 2, ["train.h5", "'y' must hold integer labels",
                                  "found floating-point data"],
          y=y0 + 0.5)
data_case("y_float_whole", 2, ["train.h5", "'y' must hold integer labels"],
          y=y0.astype(np.float64))
data_case("y_bool", 2, ["train.h5", "'y' must hold integer labels",
                        "found enum data"],
          y=(y0 > 0))
data_case("nan_rank2", 2, ["train.h5", "'X' row 50 column 1 is not finite"],
          X=nonfinite(np.nan, 50, 1))
data_case("inf_rank1", 2, ["train.h5", "'X' row 25 column 2 is not finite"],
          X=nonfinite(np.inf, 25, 2))
data_case("neginf_float32_rank0", 2,
          ["train.h5", "'X' row 3 column 0 is not finite"],
          X=nonfinite(-np.inf, 3, 0, np.float32))
data_case("one_class", 2, ["train.h5", "'y' has 1 class; at least 2"],
          y=np.full(N, 7, dtype=np.int64))
data_case("n_zero", 2, ["train.h5", "'X' has no rows (N = 0)"],
          X=np.zeros((0, M)), y=np.zeros(0, dtype=np.int64))
data_case("m_zero", 2, ["train.h5", "'X' has no columns (M = 0)"],
          X=np.zeros((N, 0)))
data_case("uint64_label_beyond_int64", 2,
          ["train.h5", "'y' row 44 has label 9223372036854775808"],
          y=np.where(np.arange(N) == 44, np.uint64(2**63),
                     y0.astype(np.uint64)).astype(np.uint64))
data_case("conflicting_duplicates", 3,
          ["rows 5 and 46 of 'X' are identical but labelled"],
          X=np.where((np.arange(N) == 46)[:, None], x0[5], x0))

# ---- config: syntax, keys, types, ranges ---------------------------------

GOOD = config()


def cfg_case(name, text, msgs, expect=2, data=True, group="config"):
    case(name, group, expect, msgs,
         with_config(text, good_data if data else None))


def extra_case(name, extra, msgs):
    cfg_case(name, GOOD + extra, msgs)


def raw_config_case(name, data, msgs, config_arg="config.toml"):
    def make(d):
        good_data(d)
        with open(os.path.join(d, "config.toml"), "wb") as f:
            f.write(data)
    case(name, "config", 2, msgs, make, config_arg=config_arg)


# syntax (toml++ messages; line and column of the problem)
cfg_case("syntax_unterminated_string", '[data]\npath = "train.h5\n',
         ["config.toml:2:"])
cfg_case("syntax_missing_equals", GOOD + "[verify]\ntolerance 1e-8\n",
         ["config.toml:8:"])
cfg_case("syntax_duplicate_key", GOOD + '[data]\npath = "b.h5"\n',
         ["config.toml:7:"])
cfg_case("syntax_duplicate_table", GOOD.replace("[output]", "[data]"),
         ["config.toml:5:"])
cfg_case("syntax_bad_escape", '[data]\npath = "train\\q.h5"\n',
         ["config.toml:2:"])
cfg_case("syntax_nul_escape", '[data]\npath = "train\\u0000.h5"\n'
         '[output]\npath = "o.h5"\n', ["config.toml:2:", "NUL"])
raw_config_case("syntax_bad_utf8", GOOD.encode() + b"# \xff\xfe\n",
                ["config.toml:7:"])
raw_config_case("nul_byte", GOOD.encode() + b"\0\n",
                ["config.toml", "NUL byte at offset"])
raw_config_case("too_large", GOOD.encode() + b"#" * (1 << 20) + b"\n",
                ["config.toml", "larger than 1 MiB"])
cfg_case("empty_config", "", ["missing required key 'data.path'"])
cfg_case("missing_output", '[data]\npath = "train.h5"\n',
         ["missing required key 'output.path'"])
case("config_missing", "config", 2,
     ["cannot read config 'nope.toml'", "No such file"],
     lambda d: good_data(d), config_arg="nope.toml")
case("config_directory", "config", 2,
     ["cannot read config 'confdir'", "Is a directory"],
     lambda d: os.mkdir(os.path.join(d, "confdir")), config_arg="confdir")

# unknown keys and tables
extra_case("unknown_key", "[construction]\nkapa = 0.3\n",
           ["config.toml:8: unknown key 'construction.kapa'"])
extra_case("unknown_table", "[nosuch]\na = 1\n",
           ["config.toml:8: unknown key 'nosuch.a'"])
cfg_case("unknown_top_key", "verbose = true\n" + GOOD,
         ["config.toml:1: unknown key 'verbose'"])
cfg_case("array_of_tables", GOOD.replace("[output]", "[[output]]"),
         ["'output' must be a table, got an array of tables"])
cfg_case("quoted_dotted_key", GOOD + '[construction]\n"kappa.x" = 1\n',
         ["unknown key 'construction.\"kappa.x\"'"])

# wrong types: one per value kind
WRONG_TYPES = [
    ("data_path_int", "data", "x_dataset = 1", "'data.x_dataset' must be a string, got an integer"),
    ("overwrite_string", "output", 'overwrite = "yes"', "'output.overwrite' must be a boolean, got a string"),
    ("kappa_string", "construction", 'kappa = "0.5"', "'construction.kappa' must be a number, got a string"),
    ("order_floats", "construction", "order = [1.5, 2.5]", "'construction.order' must be an array of integers"),
    ("order_string", "construction", 'order = "0,1,2"', "'construction.order' must be an array of integers, got a string"),
    ("mode_int", "construction", "mode = 1", "'construction.mode' must be a string, got an integer"),
    ("fisher_int", "separator", "fisher_warm_start = 1", "'separator.fisher_warm_start' must be a boolean, got an integer"),
    ("block_rows_float", "parallel2", "block_rows = 4.0", "'parallel.block_rows' must be an integer, got a float"),
    ("working_set_string", "separator", 'working_set = "8"', "'separator.working_set' must be an integer, got a string"),
    ("tolerance_bool", "verify", "tolerance = true", "'verify.tolerance' must be a number, got a boolean"),
    ("tolerance_date", "verify", "tolerance = 1979-05-27", "'verify.tolerance' must be a number, got a date/time"),
    ("checkpoint_string", "checkpoint", 'enabled = "no"', "'checkpoint.enabled' must be a boolean, got a string"),
    ("eval_path_array", "eval", 'path = ["t.h5"]', "'eval.path' must be a string, got an array"),
    ("table_as_value", None, "construction = 5", "'construction' must be a table, got an integer"),
]
for name, table, line, msg in WRONG_TYPES:
    if table == "data":
        text = config(data_extra=line)
    elif table == "output":
        text = GOOD + line + "\n"
    elif table == "parallel2":
        text = config(block=None) + "[parallel]\n" + line + "\n"
    elif table is None:
        text = line + "\n" + GOOD
    else:
        text = GOOD + f"[{table}]\n{line}\n"
    cfg_case("type_" + name, text, [msg])
cfg_case("type_empty_path", config(data=""),
         ["'data.path' must not be empty"])

# out of range: every numeric key at and beyond each documented bound
RANGES = [
    ("construction", "kappa", ["0", "9.9e-5", "0.9991", "1", "-0.5", "nan",
                               "inf"], "in [1e-4, 0.999]"),
    ("construction", "auto_budget", ["0", "-1", "inf", "nan"], "finite and > 0"),
    ("construction", "margin_floor", ["0", "0.10000000000000002", "0.5", "-1e-9"], "in (0, 0.1]"),
    ("construction", "grow_rounds", ["-1", "1001"], "in [0, 1000]"),
    ("construction", "backtrack_budget", ["-1", "2147483648"], None),
    ("separator", "working_set", ["7", "0", "2147483648"], None),
    ("separator", "max_rounds", ["0", "-3", "9223372036854775807"], None),
    ("separator", "gap", ["0", "0.5000000000000001", "2", "-inf"], "in (0, 0.5]"),
    ("separator", "hull_tol", ["0", "1.0000000000000002e-6", "1"], "in (0, 1e-6]"),
    ("parallel", "block_rows", ["0", "-4", "16777217"], "in [1, 16777216]"),
    ("parallel", "scalapack_threshold", ["0", "2147483648"], None),
    ("verify", "tolerance", ["0", "-1e-8", "inf", "nan"], "finite and > 0"),
    ("checkpoint", "interval", ["-1", "1000000001"], "in [0, 1000000000]"),
]
for table, key, values, rng in RANGES:
    for v in values:
        tag = (v.replace("-", "m").replace(".", "p").replace("+", "")
               [:24])
        if table == "parallel":
            text = config(block=None) + f"[parallel]\n{key} = {v}\n"
        else:
            text = GOOD + f"[{table}]\n{key} = {v}\n"
        msg = f"'{table}.{key}' must be"
        msgs = [msg] + ([rng] if rng else [])
        cfg_case(f"range_{key}_{tag}", text, msgs, group="range")
extra_case("order_duplicate", "[construction]\norder = [1, 0, 1]\n",
           ["'construction.order' lists label 1 more than once"])
extra_case("order_unknown_label", "[construction]\norder = [0, 1, 9]\n",
           ["label 9 in construction.order is not a class of the data"])
for key, table, v, words in [
        ("mode", "construction", "magic", '"auto", "theorem6"'),
        ("base_point", "construction", "middle", '"conditioned" or "segment"'),
        ("on_inseparable", "construction", "ignore", '"fail" or "best_effort"'),
        ("forward", "verify", "sparse", '"auto", "dense" or "structured"'),
        ("output_layer", "construction", "softmax",
         '"affine", "linear" or "neural_collapse"')]:
    extra_case(f"choice_{key}", f'[{table}]\n{key} = "{v}"\n',
               [f"'{table}.{key}' must be {words}", f'got "{v}"'])

# ---- output: the result path ---------------------------------------------


def out_case(name, out, msgs, expect=2, prep=None):
    def make(d):
        good_data(d)
        if prep:
            prep(d)
        with open(os.path.join(d, "config.toml"), "w") as f:
            f.write(config(out=out))
    case(name, "output", expect, msgs, make)


out_case("out_is_data", "train.h5", ["'train.h5' is the data file"])
out_case("out_is_config", "config.toml", ["'config.toml' is the config file"])
out_case("out_symlink_to_data", "link.h5", ["'link.h5' is the data file"],
         prep=lambda d: os.symlink("train.h5", os.path.join(d, "link.h5")))
out_case("out_hardlink_to_data", "hard.h5", ["'hard.h5' is the data file"],
         prep=lambda d: os.link(os.path.join(d, "train.h5"),
                                os.path.join(d, "hard.h5")))
out_case("out_is_directory", "outdir", ["'outdir' is a directory"],
         prep=lambda d: os.mkdir(os.path.join(d, "outdir")))
out_case("out_missing_directory", "nodir/network.h5",
         ["'nodir/network.h5'", "does not exist"], expect=5)
out_case("out_exists", "old.h5", ["'old.h5' exists", "output.overwrite"],
         prep=lambda d: open(os.path.join(d, "old.h5"), "w").write("keep"))

# ---- paths: longer than any fixed buffer ---------------------------------
# Components of 200 characters (NAME_MAX is 255), deep enough that the
# relative path passes 1024 characters; the error line must still end with
# what went wrong, not be cut in the middle of the path.

DEEP = "/".join(["d%d_" % i + "p" * 196 for i in range(6)])   # 1205 chars


def deep_dir(d):
    p = os.path.join(d, DEEP)
    os.makedirs(p)
    return p


def long_missing(d):
    deep_dir(d)
    good_data(d)


def long_no_y(d):
    write_h5(os.path.join(deep_dir(d), "train.h5"), X=x0)


def long_config(d):
    good_data(deep_dir(d))
    with open(os.path.join(d, DEEP, "config.toml"), "w") as f:
        f.write(GOOD + "[construction]\nbogus = 1\n")


def long_case(name, text, msgs, make, expect=2, config_arg="config.toml"):
    def mk(d):
        make(d)
        if text is not None:
            with open(os.path.join(d, "config.toml"), "w") as f:
                f.write(text)
    case(name, "paths", expect, msgs, mk, config_arg=config_arg)


long_case("long_data_missing", config(data=DEEP + "/missing_train.h5"),
          ["/missing_train.h5: cannot open: No such file or directory"],
          long_missing)
long_case("long_data_no_y", config(data=DEEP + "/train.h5"),
          ["/train.h5: no dataset 'y'"], long_no_y)
long_case("long_config_unknown_key", None,
          ["config.toml:8: unknown key 'construction.bogus'"], long_config,
          config_arg=DEEP + "/config.toml")
long_case("long_output_missing_dir",
          config(out=DEEP + "/nodir/network.h5"),
          ["/nodir", "does not exist"], long_missing, expect=5)
# beyond what the kernel takes (PATH_MAX, NAME_MAX): refused with the
# config, naming the key, before any work
long_case("path_too_long",
          config(data="/".join(["x" * 200] * 25) + ".h5"),
          ["config.toml:2: key 'data.path' is a path of 5027 bytes",
           "limited to 4095"], good_data)
long_case("component_too_long", config(data="z" * 300 + ".h5"),
          ["config.toml:2: key 'data.path' holds a name of 303 bytes",
           "limited to 255"], good_data)
long_case("output_too_long", config(out="o" * 300 + ".h5"),
          ["config.toml:6: key 'output.path' holds a name of 303 bytes"],
          good_data)
long_case("output_name_no_room", config(out="n" * 247 + ".h5"),
          ["config.toml:6: key 'output.path' names a file of 250 bytes",
           "limited to 239"], good_data)
long_case("output_too_long_near_config", None,
          ["key 'output.path' is a path of", "next to the config"],
          lambda d: (good_data(deep_dir(d)), open(
              os.path.join(d, DEEP, "config.toml"), "w").write(
              config(out="/".join(["q" * 200] * 20)))),
          config_arg=DEEP + "/config.toml")
# a valid file whose name is too long for Open MPI's MPI-IO buffers (it
# aborted every rank at 245 bytes): opened all the same, and the error is
# the data's (one class), found after a real collective read
long_case("long_data_read", config(data=DEEP + "/train.h5"),
          ["/train.h5: dataset 'y' has 1 class"],
          lambda d: good_file(os.path.join(deep_dir(d), "train.h5"),
                              y=np.zeros(N, dtype=np.int64)))

# ---- write: the result cannot be written ---------------------------------
# enospc.so (built from tests/bad/enospc.c) makes the writer's temporary
# file "<output>.tmp.<pid>" live on a full disk: writes fail with ENOSPC
# once TD_ENOSPC_AFTER bytes are written, and fallocate asks for space the
# same way.  The run builds the network, then must name the device error,
# exit 5 on every rank (HDF5 crashed rank 0 in MPI_Finalize once a
# metadata write had failed) and leave nothing behind.

# (checkpoints off: one kept for --resume after a failed write would be a
# file the run created on purpose, and its writer is another story)
NO_CKPT = "[checkpoint]\nenabled = false\n"
case("disk_full_at_create", "write", 5,
     ["cannot write result 'network.h5'", "No space left on device"],
     with_config(config(extra=NO_CKPT), good_data), preload="enospc",
     env={"TD_ENOSPC_AFTER": "0"})
case("disk_full_while_writing", "write", 5,
     ["cannot write result 'network.h5'", "No space left on device",
      "the result needs about"],
     with_config(config(extra=NO_CKPT), good_data), preload="enospc",
     env={"TD_ENOSPC_AFTER": "8000"})

# ---- targets: construction.targets and data.targets_dataset --------------
# The good data have 3 classes (labels 0, 1, 2).  Config errors without the
# data's Q are found at parse time (with the line), the rest after loading.

T_ID3 = "[[1, 0, 0], [0, 1, 0], [0, 0, 1]]"


def targets_case(name, msgs, targets=None, dataset=None, value=None):
    """construction.targets = targets (TOML text) and/or data.targets_dataset
    = dataset (with `value` stored under that name in train.h5)."""
    data_extra = f'targets_dataset = "{dataset}"' if dataset else ""
    extra = f"[construction]\ntargets = {targets}\n" if targets else ""
    text = config(data_extra=data_extra, extra=extra)

    def data(d):
        good_file(os.path.join(d, "train.h5"))
        if value is not None:
            with h5py.File(os.path.join(d, "train.h5"), "a") as f:
                if isinstance(value, str) and value == "group":
                    f.create_group(dataset)
                else:
                    f[dataset] = value
    case("targets_" + name, "targets", 2, msgs, with_config(text, data))


targets_case("dependent", ["config.toml:8: construction.targets: rows 0, 1 "
                           "and 2 are linearly dependent (y_2 = 2 y_0 - 1 y_1"],
             targets="[[1, 0, 0], [0, 1, 0], [2, -1, 0]]")
targets_case("zero_row", ["construction.targets: row 1 is the zero vector"],
             targets="[[1, 0, 0], [0, 0, 0], [0, 0, 1]]")
targets_case("near_dependent", ["rows 0 and 2 are linearly dependent"],
             targets="[[1, 1, 0], [0, 1, 1], [1, 1, 1e-12]]")
targets_case("too_few", ["config.toml:8: construction.targets has 2 vectors, "
                         "the data have 3 classes (labels 0, 1, 2)"],
             targets="[[1, 0, 0], [0, 1, 0]]")
targets_case("too_long", ["construction.targets holds vectors of 4 numbers, "
                          "the data have 3 classes"],
             targets="[[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]")
targets_case("ragged", ["config.toml:8: key 'construction.targets' row 2 has "
                        "2 numbers, row 0 has 3 (ragged)"],
             targets="[[1, 0, 0], [0, 1, 0], [0, 1]]")
targets_case("nan", ["config.toml:8: key 'construction.targets' row 1 "
                     "element 0 is nan"],
             targets="[[1, 0, 0], [nan, 1, 0], [0, 0, 1]]")
targets_case("inf", ["row 2 element 2 is inf"],
             targets="[[1, 0, 0], [0, 1, 0], [0, 0, inf]]")
targets_case("flat", ["'construction.targets' must be an array of arrays of "
                      "numbers", "got an array that is not all arrays"],
             targets="[1, 0, 0]")
targets_case("string_row", ["'construction.targets' row 0 must hold numbers, "
                            "got strings"],
             targets='[["1", "0", "0"], [0, 1, 0], [0, 0, 1]]')
targets_case("bool_row", ["row 1 must hold numbers, got booleans"],
             targets="[[1, 0, 0], [true, false, true], [0, 0, 1]]")
targets_case("table", ["config.toml:8: unknown key 'construction.targets.a'"],
             targets="{a = 1}")
targets_case("both_keys", ["config.toml:", "keys 'data.targets_dataset' "
                           "(line 3) and 'construction.targets' (line 9) "
                           "both give the target vectors"],
             targets=T_ID3, dataset="T", value=np.eye(3))
targets_case("dataset_missing", ["train.h5: no dataset 'T'"], dataset="T")
targets_case("dataset_group", ["train.h5: 'T' is a group, not a dataset"],
             dataset="T", value="group")
targets_case("dataset_rank1", ["train.h5: dataset 'T' has rank 1, expected 2"],
             dataset="T", value=np.ones(3))
targets_case("dataset_strings", ["train.h5: dataset 'T' must hold numbers",
                                 "found string data"],
             dataset="T", value=np.array([[b"1"] * 3] * 3))
targets_case("dataset_shape", ["train.h5: dataset 'T' has 4 vectors, the "
                               "data have 3 classes (labels 0, 1, 2)"],
             dataset="T", value=np.eye(4, 3))
targets_case("dataset_dependent", ["train.h5: dataset 'T': rows 0, 1 and 2 "
                                   "are linearly dependent"],
             dataset="T", value=np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]],
                                         dtype=np.int16))
targets_case("dataset_nan", ["train.h5: dataset 'T': row 2 column 0 is nan"],
             dataset="T", value=np.where(np.arange(9).reshape(3, 3) == 6,
                                         np.nan, np.eye(3)))
targets_case("dataset_empty", ["train.h5: dataset 'T' has 0 vectors"],
             dataset="T", value=np.zeros((0, 3)))


# ---- fuzz: what the fuzzers found -----------------------------------------
# tests/bad/fuzz/findings/<harness>/<name>: the input, and <name>.expect:
# the substrings its error line must hold, one a line.  Config findings are
# run as the config; validator findings as the data file.

FINDINGS = os.path.join(HERE, "fuzz", "findings")


def finding_cases():
    for harness in ("config", "h5probe"):
        d = os.path.join(FINDINGS, harness)
        if not os.path.isdir(d):
            continue
        for fn in sorted(os.listdir(d)):
            if fn.endswith(".expect") or fn.startswith("."):
                continue
            src = os.path.join(d, fn)
            with open(src + ".expect") as f:
                msgs = [ln.rstrip("\n") for ln in f if ln.strip()]

            def make(dst, src=src, harness=harness):
                if harness == "config":
                    good_data(dst)
                    shutil.copyfile(src, os.path.join(dst, "config.toml"))
                else:
                    shutil.copyfile(src, os.path.join(dst, "train.h5"))
                    with open(os.path.join(dst, "config.toml"), "w") as f:
                        f.write(config())
            case(f"fuzz_{harness}_{fn}", "fuzz", 2, msgs, make)


finding_cases()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--group", action="append",
                    help="only these groups (repeatable)")
    ap.add_argument("--list", action="store_true",
                    help="print the case names and stop")
    a = ap.parse_args()
    cases = [c for c in CASES if not a.group or c["group"] in a.group]
    names = [c["name"] for c in CASES]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        sys.exit(f"gen_cases.py: duplicate case names {sorted(dup)}")
    if a.list:
        for c in cases:
            print(c["group"], c["name"])
        return
    if os.path.exists(a.outdir):
        shutil.rmtree(a.outdir)
    os.makedirs(a.outdir)
    manifest = []
    for c in cases:
        d = os.path.join(a.outdir, c["name"])
        os.mkdir(d)
        c["make"](d)
        manifest.append({k: v for k, v in c.items() if k != "make"})
    with open(os.path.join(a.outdir, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    print(f"gen_cases.py: {len(manifest)} cases in {a.outdir}")


if __name__ == "__main__":
    main()
