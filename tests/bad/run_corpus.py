#!/usr/bin/python3
"""Run the corpus of bad inputs (gen_cases.py) at 1 and 3 ranks.

    run_corpus.py --bin TRUNC_DIST --work DIR [--mpiexec MPIEXEC]
                  [--group G ...] [--case NAME ...] [--np 1,3]
                  [--preload NAME=LIB.so ...] [--timeout 60] [--jobs 1]

For every case and rank count, a fresh copy of the case directory is
made (cp -a: symbolic links and FIFOs stay what they are), trunc-dist runs
in it (`trunc-dist CONFIG`, or the case's own arguments, e.g. `eval NET
DATA`) under `mpiexec --oversubscribe -n NP`, each rank through a wrapper
that records its own exit code and exits 0 (so mpiexec never cuts a slow
rank short), and the run passes only if

  * it ends within --timeout seconds (else it is killed: a hang);
  * every rank exits with the case's expected code (2 for input errors);
  * stderr is exactly one line, "trunc-dist: error: ...", holding each of
    the case's substrings (the file, dataset, key or line concerned), and
    stdout holds no error line;
  * nothing in the case directory was created, removed or changed: the
    listing with every file's type, mode, size and SHA-256 (a symbolic
    link's target) is the same before and after, so the output file, its
    temporary and the data are all covered.

Prints one line per run and a summary; exits 1 when any run failed.
"""
import argparse
import hashlib
import json
import os
import shlex
import signal
import stat
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WRAP = ('"$0" "$@"; echo $? > "$TD_RC_DIR/rc.${OMPI_COMM_WORLD_RANK:-0}"; '
        'exit 0')


def snapshot(root):
    """{relative path: description} of everything under root, not
    following links and never opening anything but regular files."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", mode)
            elif stat.S_ISREG(st.st_mode):
                h = hashlib.sha256()
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                out[rel] = ("file", mode, st.st_size, h.hexdigest())
            else:
                out[rel] = ("special", stat.S_IFMT(st.st_mode), mode)
    return out


def diff(before, after):
    msgs = []
    for k in sorted(set(before) | set(after)):
        if k not in after:
            msgs.append(f"removed {k}")
        elif k not in before:
            msgs.append(f"created {k}")
        elif before[k] != after[k]:
            msgs.append(f"changed {k}")
    return msgs


def short(s, n=300):
    s = s.replace("\n", "\\n")
    return s if len(s) <= n else s[:n // 2] + " ... " + s[-n // 2:]


def run_one(c, np_, a, preloads):
    """Returns a list of problems (empty: pass) and the elapsed time."""
    tag = f"{c['name']}.np{np_}"
    d = os.path.join(a.work, "run", tag)
    rcdir = os.path.join(a.work, "rc", tag)
    for p in (d, rcdir):
        subprocess.run(["rm", "-rf", p], check=True)
    os.makedirs(rcdir)
    os.makedirs(os.path.dirname(d), exist_ok=True)
    subprocess.run(["cp", "-a", os.path.join(a.work, "cases", c["name"]), d],
                   check=True)
    before = snapshot(d)
    cmd = shlex.split(a.mpiexec) + ["--oversubscribe", "-n", str(np_)]
    env = dict(os.environ)
    if c.get("preload"):
        lib = preloads.get(c["preload"])
        if not lib:
            return [f"no library for preload '{c['preload']}' "
                    f"(--preload {c['preload']}=LIB.so)"], 0.0
        cmd += ["-x", f"LD_PRELOAD={lib}"]
    for k, v in c.get("env", {}).items():
        cmd += ["-x", f"{k}={v}"]
    cmd += ["-x", f"TD_RC_DIR={rcdir}", "sh", "-c", WRAP, a.bin]
    cmd += c.get("args") or [c["config"]]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=d, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = p.communicate(timeout=a.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return [f"no exit within {a.timeout} s (killed)"], a.timeout
    dt = time.monotonic() - t0
    out = out.decode(errors="replace")
    err = err.decode(errors="replace")
    probs = []
    if p.returncode != 0:
        probs.append(f"mpiexec itself exited {p.returncode}")
    codes = {}
    for r in range(np_):
        try:
            with open(os.path.join(rcdir, f"rc.{r}")) as f:
                codes[r] = int(f.read().strip())
        except (OSError, ValueError):
            codes[r] = None
    if None in codes.values():
        probs.append(f"ranks without an exit code: "
                     f"{[r for r, v in codes.items() if v is None]}")
    if len(set(codes.values())) > 1:
        probs.append(f"ranks disagree on the exit code: {codes}")
    elif codes.get(0) != c["expect"]:
        probs.append(f"exit code {codes.get(0)}, expected {c['expect']}")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    errs = [ln for ln in lines if ln.startswith("trunc-dist: error:")]
    if len(errs) != 1:
        probs.append(f"{len(errs)} 'trunc-dist: error:' lines on stderr, "
                     f"expected 1")
    if len(lines) != len(errs):
        probs.append(f"other output on stderr: {short(err)}")
    if errs:
        for m in c["msgs"]:
            if m not in errs[0]:
                probs.append(f"error line lacks '{m}'")
    if "error" in out.lower():
        probs.append(f"an error on stdout: {short(out)}")
    probs += diff(before, snapshot(d))
    if probs:
        probs.append(f"stderr: {short(err, 1200)}")
    else:                      # keep failures for a look, drop passes
        subprocess.run(["rm", "-rf", d, rcdir], check=True)
    return probs, dt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--mpiexec", default="mpiexec")
    ap.add_argument("--group", action="append")
    ap.add_argument("--case", action="append")
    ap.add_argument("--np", default="1,3")
    ap.add_argument("--preload", action="append", default=[],
                    help="NAME=LIB.so for cases that preload NAME")
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    a.bin = os.path.abspath(a.bin)
    a.work = os.path.abspath(a.work)
    preloads = dict(x.split("=", 1) for x in a.preload)
    nps = [int(x) for x in a.np.split(",")]
    gen = [sys.executable, os.path.join(HERE, "gen_cases.py"),
           os.path.join(a.work, "cases")]
    for g in a.group or []:
        gen += ["--group", g]
    subprocess.run(["rm", "-rf", os.path.join(a.work, "run"),
                    os.path.join(a.work, "rc")], check=True)
    subprocess.run(gen, check=True)
    with open(os.path.join(a.work, "cases", "cases.json")) as f:
        cases = json.load(f)
    if a.case:
        cases = [c for c in cases if c["name"] in a.case]
    if not cases:
        sys.exit("run_corpus.py: no cases selected")
    t0 = time.monotonic()
    failed = []
    runs = 0
    for c in cases:
        for np_ in c["np"]:
            if np_ not in nps:
                continue
            runs += 1
            probs, dt = run_one(c, np_, a, preloads)
            tag = f"{c['group']}/{c['name']} np={np_}"
            if probs:
                failed.append(tag)
                print(f"FAIL {tag} ({dt:.1f} s)")
                for pr in probs:
                    print(f"     {pr}")
            else:
                print(f"ok   {tag} ({dt:.1f} s)")
            sys.stdout.flush()
    print(f"run_corpus.py: {runs - len(failed)} of {runs} runs passed "
          f"({len(cases)} cases, {time.monotonic() - t0:.0f} s)")
    if failed:
        print("failed: " + " ".join(failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
