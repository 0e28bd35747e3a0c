#!/usr/bin/python3
"""How the rows of a training file are split over MPI ranks, and a check
that a multi-rank test really spreads them.

    row_spread.py TRAIN.h5 --np NP --block-rows B [--min-blocks K] [--x X]
                  [--network OUT.h5]
    row_spread.py TRAIN.h5 --block-rows B [--min-blocks K] --run NP:OUT.h5 ...

trunc-dist gives each rank a contiguous run of whole blocks of B rows
(src/core/partition.c, include/td_shard.h): with nb = ceil(N / B) blocks,
rank r owns blocks [floor(nb r / NP), floor(nb (r+1) / NP)), clipped to N.
With the default B = 1024 and N of a few thousand, most ranks own nothing
(for N <= B the last rank holds every row), so a "multi-rank" run is really
a one-rank run.  This mirrors that rule (keep it in step with partition.c)
and prints the rows and blocks of every rank.

Checks
  * every rank owns at least K blocks (default 2 for NP > 1: more than one
    per-block partial to combine on every rank) and at least one row;
  * with --network: the run recorded in OUT.h5 (/run attrs nranks and
    block_rows) used exactly this layout, so the config really took effect;
    --run NP:OUT.h5 (repeatable) checks several runs of the same data.

Exits 0, or prints the problem and exits 1.  gen_data.py --spread and
check_network.py --run-layout use spread() and run_layout() from here, so
run_case.sh needs no extra interpreter start per case.
"""
import argparse
import sys

import h5py


def partition(n_total, block_rows, rank, nranks):
    """(row0, nrows) of `rank`: the same integer arithmetic as
    td_partition_rows."""
    nblocks = (n_total + block_rows - 1) // block_rows
    b0 = nblocks * rank // nranks
    b1 = nblocks * (rank + 1) // nranks
    r0 = min(b0 * block_rows, n_total)
    r1 = min(b1 * block_rows, n_total)
    return r0, r1 - r0


def compact(values):
    """Space-separated values, a run of k equal values v written 'vxk'."""
    runs = []
    for v in values:
        if runs and runs[-1][0] == v:
            runs[-1][1] += 1
        else:
            runs.append([v, 1])
    return " ".join(f"{v}" if k == 1 else f"{v}x{k}" for v, k in runs)


def spread(n, nranks, block_rows, min_blocks=None):
    """The split of n rows: (one summary line, list of problems).  Every rank
    must own at least min_blocks blocks (default 2 when nranks > 1) and, when
    nranks > 1, at least one row."""
    if min_blocks is None:
        min_blocks = 2 if nranks > 1 else 0
    nblocks = (n + block_rows - 1) // block_rows
    parts = [partition(n, block_rows, r, nranks) for r in range(nranks)]
    rows = [k for _, k in parts]
    blocks = [(r0 + k + block_rows - 1) // block_rows - r0 // block_rows
              for r0, k in parts]
    assert sum(rows) == n and all(parts[r][0] + parts[r][1] == parts[r + 1][0]
                                  for r in range(nranks - 1))
    line = (f"row_spread: N={n} np={nranks} block_rows={block_rows}: {nblocks} "
            f"blocks; rows per rank {compact(rows)} (min {min(rows)}, max "
            f"{max(rows)}); blocks per rank {compact(blocks)}")
    need = max(min_blocks, 1 if nranks > 1 else 0)
    short = [r for r in range(nranks) if blocks[r] < need]
    problems = []
    if short:
        # every rank owns >= need blocks iff nblocks >= need * nranks
        problems.append(
            f"{len(short)} of {nranks} ranks (first: rank {short[0]}, "
            f"{rows[short[0]]} rows) own fewer than {need} blocks: N={n} is too "
            f"small for block_rows={block_rows} at {nranks} ranks (need N > "
            f"{block_rows * (need * nranks - 1)}); use a smaller block_rows")
    return line, problems


def run_layout(net, nranks, block_rows):
    """Problems with the /run record of an open trunc-dist output: it must
    say the run had nranks ranks and blocks of block_rows rows."""
    if "run" not in net:
        return [f"{net.filename} has no /run group"]
    run = net["run"].attrs
    got = (int(run.get("nranks", -1)), int(run.get("block_rows", -1)))
    if got != (nranks, block_rows):
        return [f"{net.filename}: /run records nranks={got[0]} block_rows="
                f"{got[1]}, expected {nranks} and {block_rows}"]
    return []


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("train")
    ap.add_argument("--np", type=int, default=None)
    ap.add_argument("--block-rows", type=int, required=True)
    ap.add_argument("--min-blocks", type=int, default=None,
                    help="blocks every rank must own (default 2 if NP > 1)")
    ap.add_argument("--x", default="X")
    ap.add_argument("--network", default=None,
                    help="trunc-dist output whose /run must match NP, B")
    ap.add_argument("--run", action="append", default=[], metavar="NP:OUT.h5",
                    help="a run at NP ranks and its output (repeatable)")
    a = ap.parse_args(argv)
    runs = []
    try:
        for r in a.run:
            k, path = r.split(":", 1)
            runs.append((int(k), path))
    except ValueError:
        ap.error("--run needs NP:OUT.h5")
    if a.np is not None:
        runs.insert(0, (a.np, a.network))
    elif a.network:
        ap.error("--network needs --np")
    if not runs or a.block_rows < 1 or min(k for k, _ in runs) < 1:
        ap.error("need NP >= 1 (--np or --run) and block rows >= 1")

    with h5py.File(a.train, "r") as f:
        n = int(f[a.x].shape[0])
    problems = []
    for k, path in runs:
        line, bad = spread(n, k, a.block_rows, a.min_blocks)
        print(line)
        if path:
            with h5py.File(path, "r") as f:
                bad += run_layout(f, k, a.block_rows)
            if not bad:
                print(f"row_spread: {path}: /run agrees (nranks={k}, "
                      f"block_rows={a.block_rows})")
        problems += bad
    for p in problems:
        print(f"row_spread: FAIL: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
