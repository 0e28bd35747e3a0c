#!/usr/bin/python3
"""A hull solve that fails in floating point is no evidence (issue 9).

    hull_failure.py --bin trunc-dist --work DIR [--mpiexec mpiexec] [--np 3]

Separable clusters (gen_data.py) scaled by 1e154 (the squares of the
working-set coordinates overflow) and by 1e-170 (the hull distance and
radius underflow to 0), construction.mode = "theorem6", at --np ranks:
every rank must exit with the same code, 0 (a network: the numerics cope
with the scale) or 1 (internal error), never 3 ("not sequentially
separable" would be false evidence), with one error line that does not
claim inseparability, and no output file when it fails.
"""
import argparse
import os
import shutil
import subprocess
import sys

import h5py

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "integration", "gen_data.py")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--mpiexec", default="mpiexec")
    ap.add_argument("--np", type=int, default=3)
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    base = os.path.join(a.work, "base.h5")
    subprocess.run([sys.executable, GEN, base, "--q", "3", "--m", "4",
                    "--n", "300", "--seed", "1"], check=True,
                   stdout=subprocess.DEVNULL)
    with h5py.File(base) as f:
        x, y = f["X"][:], f["y"][:]
    bad = 0
    for scale in (1e154, 1e-170):
        d = os.path.join(a.work, f"s{scale:g}")
        os.makedirs(d)
        with h5py.File(os.path.join(d, "train.h5"), "w") as f:
            f["X"] = x * scale
            f["y"] = y
        with open(os.path.join(d, "config.toml"), "w") as f:
            f.write('[data]\npath = "train.h5"\n[output]\npath = "out.h5"\n'
                    '[construction]\nmode = "theorem6"\n'
                    '[parallel]\nblock_rows = 16\n')
        wrap = ('"$0" "$1"; echo $? > "$2/rc.${OMPI_COMM_WORLD_RANK:-0}"; '
                'exit 0')
        p = subprocess.run(["timeout", "-k", "5", "120"] + a.mpiexec.split() +
                           ["--oversubscribe", "-n", str(a.np), "sh", "-c",
                            wrap, os.path.abspath(a.bin), "config.toml", d],
                           cwd=d, capture_output=True, text=True)
        rcs = [open(os.path.join(d, f"rc.{r}")).read().strip()
               if os.path.exists(os.path.join(d, f"rc.{r}")) else None
               for r in range(a.np)]
        errs = [l for l in p.stderr.splitlines()
                if l.startswith("trunc-dist: error:")]
        probs = []
        if p.returncode or None in rcs:
            probs.append(f"launcher exit {p.returncode}, rank codes {rcs}")
        elif len(set(rcs)) > 1:
            probs.append(f"ranks disagree: {rcs}")
        elif rcs[0] not in ("0", "1"):
            probs.append(f"exit {rcs[0]}, expected 0 or 1")
        elif rcs[0] == "1":
            if len(errs) != 1:
                probs.append(f"{len(errs)} error lines")
            if any("separable" in l and "no evidence" not in l for l in errs):
                probs.append("the error claims inseparability")
            if os.path.exists(os.path.join(d, "out.h5")):
                probs.append("output left behind")
        print(f"hull_failure: scale {scale:g}: exit {rcs}: "
              f"{errs[0] if errs else '(no error)'}")
        for q in probs:
            print(f"FAIL scale {scale:g}: {q}\n{p.stdout}\n{p.stderr}")
        bad += bool(probs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
