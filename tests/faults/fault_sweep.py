#!/usr/bin/python3
"""Allocation faults on one rank must stop every rank alike (issue 9).

    fault_sweep.py --bin trunc-dist-faults --work DIR [--mpiexec mpiexec]
                   [--python python3] [--np 3] [--ranks 0,2] [--jobs 4]
                   [--timeout 20] [--threads 1] [--cases theorem6,pieces,...]
                   [--sample function|site|all] [--keep] [--plan]

For each case (small generated data, small block_rows so that every rank
owns several blocks) a traced run records every allocation of
trunc-dist's own code on every rank (fault_alloc.c: "K ADDR", ADDR the
call site, named by addr2line -f).  Each allocation is labelled with its
stage: an allocation in a stage's marker function (STAGES) switches the
stage, any other (helpers: scans, hull solves, cones, collectives) belongs
to the stage in progress; PHASES say which construction runs.  Then, on
each rank of --ranks, one allocation at a time is made to fail
(TD_FAULT_ALLOC=RANK:K, a fresh run each):
  function  (default) the first allocation of every (stage, function) pair
            and the first at that function's last call site,
  site      the first allocation of every (stage, call site) pair,
  all       every allocation.
Loading, the Theorem 6 search and finishing are the same code in every
case and are covered once; the lifted constructions' stages per case.

Every injected run must
  - end on every rank within --timeout seconds (a hang is a failure),
  - end with the same exit code on every rank,
  - end with exit 1 (internal error; 5 when the writer fails: the result
    could not be written), or with the clean run's code when the program
    legitimately worked around the failure (then the result must exist,
    and check_network.py must accept it),
  - print exactly one "trunc-dist: error:" line (when it fails) and nothing
    else on stderr,
  - leave no output file and no temporary behind (when it fails; the
    checkpoint is kept after an internal or output error, as documented).
A run whose launch failed (no banner: Open MPI under load) is retried.
Exit status 0 when every run passed, 1 otherwise; prints the injection
points per stage, the error lines per stage, the failures tolerated and
every problem.
"""
import argparse
import collections
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "integration", "gen_data.py")
CHECK = os.path.join(HERE, "..", "integration", "check_network.py")

# name: gen_data.py arguments, extra TOML, exit code of the clean run
CASES = {
    # Theorem 6: search, base points, output layer; the M x M Fisher
    # solve through ScaLAPACK (threshold 4 <= M); a checkpoint after
    # every layer
    "theorem6": (["--kind", "clusters", "--q", "4", "--m", "5", "--n", "320",
                  "--seed", "3"],
                 "[parallel]\nblock_rows = 16\nscalapack_threshold = 4\n"
                 "[checkpoint]\ninterval = 0\n[construction]\n"
                 "mode = \"theorem6\"\n", 0),
    # auto on clustered data: Proposition 3's conditions, the projection,
    # the width-Q cones and their input map
    "clustered": (["--kind", "clusters", "--q", "3", "--m", "4", "--n", "120",
                   "--seed", "11"],
                  "[parallel]\nblock_rows = 8\n[construction]\n"
                  "mode = \"clustered\"\n", 0),
    # auto: the Theorem 6 search fails (final dead end), pieces at M + Q
    "pieces": (["--kind", "overlap3", "--m", "3", "--n", "60", "--seed", "5"],
               "[parallel]\nblock_rows = 4\n", 0),
    # auto, binary: not separable at width M, a polytope
    "polytope": (["--kind", "concentric", "--m", "2", "--n", "120",
                  "--seed", "6"],
                 "[parallel]\nblock_rows = 8\n", 0),
    # more, for --cases (not run by default)
    "lifted": (["--kind", "clusters", "--q", "5", "--m", "2", "--n", "200",
                "--seed", "7"],
               "[parallel]\nblock_rows = 8\n[construction]\n"
               "mode = \"lifted\"\n[verify]\nforward = \"structured\"\n", 0),
    "best_effort": (["--kind", "overlap", "--m", "3", "--n", "120",
                     "--seed", "8"],
                    "[parallel]\nblock_rows = 8\n[construction]\n"
                    "on_inseparable = \"best_effort\"\n", 3),
    "segment": (["--kind", "clusters", "--q", "4", "--m", "4", "--n", "200",
                 "--seed", "9"],
                "[parallel]\nblock_rows = 8\n[construction]\n"
                "base_point = \"segment\"\n", 0),
}
DEFAULT_CASES = "theorem6,pieces,polytope,clustered"

# Stage markers: (stage, regex on the allocating function).  Phases
# (load, theorem6, pieces, polytope, finish) switch on their own markers.
STAGES = [
    ("config", r"^(td_read_text_file|td_config_\w+|td_toml_\w+|parse_into|run"
               r"|check_output\w*)$|toml|flattener|string_copy"),
    ("load", r"^td_h5_read\w*|^read_\w+"),
    ("labels", r"^td_engine_init$|global_labels"),
    ("conflicts", r"conflicts|hash_rows|sort_by_key"),
    ("model", r"^td_model_alloc$"),
    ("class stats", r"^td_engine_class_stats$|^td_lift_stats$"),
    ("warm start", r"scatter|warm_starts|dense_spd|solve_lapack|"
                   r"solve_scalapack|eigen"),
    ("separators", r"^td_separate$|^solve_open|^ws_grow$|^states_init$|"
                   r"^share_open$"),
    ("base point", r"choose_base_point|^td_base_\w+|key_of|td_affine_dist|"
                   r"later_init|^shadows"),
    ("layer", r"^td_layer_build$|lambda_pass|td_engine_apply|^build_layer"),
    ("search", r"^td_search_build$|search_orders|open_level|separate_all|"
               r"solve_batch|level_keep"),
    ("output layer", r"^td_layer_output$|td_output_layer|td_lstsq|"
                     r"td_network_plan|lifted_output"),
    ("lift", r"^td_lift_(init|radius)$|td_engine_radius|td_model_set_width"),
    ("pieces", r"^td_pieces_build$|^build_layers$|td_lift_find_pieces|"
               r"td_lift_next_class|^piece_\w+|lifted_cone"),
    ("cut", r"td_engine_cut|cut_pass|td_engine_park|td_engine_mark"),
    ("grow", r"td_lift_grow"),
    ("polytope", r"td_polytope_build|facet"),
    ("clustered", r"td_clustered_\w+|td_engine_class_radius|project_rows|"
                  r"cone_layer|clustered_output|td_network_set_input"),
    ("dense network", r"td_network_materialize"),
    ("verify", r"^td_verify"),
    ("checkpoint", r"^td_ckpt_\w+|^td_buf_\w+|^td_h5par_\w+|"
                   r"checkpoint|^td_resume_\w+"),
    ("write", r"^td_h5_write\w*|^column|layer_vectors|^write_\w+|^attr_\w+"),
]
# Exit codes besides 1 that a failure in a stage may give: the writer
# reports any failure as "the result could not be written" (5).
ALLOWED = {"write": (1, 5), "checkpoint": (1, 5)}

PHASES = [
    ("lifted", r"^td_lift_init$"),
    ("theorem6", r"^td_search_build$|search_orders"),
    ("pieces", r"^td_pieces_build$|^build_layers$|td_lift_find_pieces"),
    ("polytope", r"td_polytope_build"),
    ("clustered", r"td_clustered_check|td_clustered_build"),
    ("finish", r"td_network_materialize|^td_verify|^td_h5_write"),
]


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def write_config(path, data, extra, out="out.h5"):
    with open(path, "w") as f:
        f.write(f'[data]\npath = "{data}"\n[output]\npath = "{out}"\n{extra}')


def mpi_cmd(a, binary, config, rcdir):
    # each rank records its own exit code; the wrapper exits 0 so that
    # mpiexec never kills the ranks that are still running
    wrap = '"$0" "$1"; echo $? > "$2/rc.${OMPI_COMM_WORLD_RANK:-0}"; exit 0'
    return (a.mpiexec.split() + ["--oversubscribe", "-n", str(a.np),
            "sh", "-c", wrap, binary, config, rcdir])


THREADS = 1


def env_with(**kv):
    env = dict(os.environ)
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    env["OMP_NUM_THREADS"] = str(THREADS)  # 1: deterministic allocation order
    if THREADS > 1:             # 3 ranks of spinning threads on few cores
        env.setdefault("OMP_WAIT_POLICY", "passive")
    env["OPENBLAS_NUM_THREADS"] = "1"
    for k in ("TD_FAULT_ALLOC", "TD_FAULT_TRACE"):
        env.pop(k, None)
    env.update(kv)
    return env


def symbolize(binary, addrs):
    """addr -> function name (addr2line -f on the non-PIE executable)."""
    addrs = sorted(addrs)
    p = run(["addr2line", "-f", "-s", "-e", binary] + addrs, check=True)
    lines = p.stdout.splitlines()
    return {a: lines[2 * i] for i, a in enumerate(addrs)}


def label(trace, names):
    """[(k, addr, phase/stage)] of one rank's trace."""
    st = [(s, re.compile(r)) for s, r in STAGES]
    ph = [(s, re.compile(r)) for s, r in PHASES]
    stage, phase, out = "config", "load", []
    for k, addr in trace:
        fn = names[addr]
        for s, rx in ph:
            if rx.search(fn):
                phase = s
                break
        for s, rx in st:
            if rx.search(fn):
                stage = s
                break
        full = stage if phase in ("load", "finish") else f"{phase}/{stage}"
        out.append((k, addr, full))
    return out


def read_trace(path):
    with open(path) as f:
        return [(int(k), addr) for k, addr, *_ in (l.split() for l in f)]


def check_result(a, d, case, stage, expect_clean):
    """Problems of one finished injected run (empty list: it passed)."""
    probs, rcs = [], []
    for r in range(a.np):
        p = os.path.join(d, f"rc.{r}")
        rcs.append(open(p).read().strip() if os.path.exists(p) else None)
    if None in rcs:
        probs.append("ranks without an exit code: " + str(
            [r for r, c in enumerate(rcs) if c is None]))
        return probs, rcs
    if len(set(rcs)) > 1:
        probs.append(f"ranks disagree: exit codes {rcs}")
        return probs, rcs
    rc = int(rcs[0])
    err = open(os.path.join(d, "stderr.txt")).read().splitlines()
    errs = [l for l in err if l.startswith("trunc-dist: error:")]
    out = os.path.join(d, "out.h5")
    # the checkpoint stays after an internal or output error (README,
    # "Stopping and resuming"); nothing else of the output may
    left = [f for f in os.listdir(d) if f.startswith("out.h5") and
            not (f == "out.h5.checkpoint" and rc in (1, 5))]
    if rc == expect_clean:      # worked around: the result must hold
        if not os.path.exists(out):
            probs.append(f"exit {rc} but no result")
        elif rc == 0 and run([a.python, CHECK, out,
                              os.path.join(a.work, case + ".h5")]).returncode:
            probs.append("exit 0 but check_network.py rejects the result")
        if rc == 0 and errs:
            probs.append("exit 0 with an error line")
        return probs, rcs
    if rc not in ALLOWED.get(stage, (1,)):
        probs.append(f"exit {rc}, expected 1 (internal error)")
    if len(errs) != 1:
        probs.append(f"{len(errs)} error lines on stderr, expected 1")
    if len(err) != len(errs):
        probs.append("other lines on stderr: " +
                     "; ".join(l for l in err if l not in errs)[:300])
    if left:
        probs.append("left behind: " + ", ".join(left))
    return probs, rcs


def launched(d):
    with open(os.path.join(d, "stdout.txt")) as f:
        return re.search(r"^trunc-dist \S+: \d+ ranks", f.read(), re.M)


def inject(a, case, rank, k, stage, fn):
    d = os.path.join(a.work, "runs", f"{case}_r{rank}_k{k}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cfg = os.path.join(d, "config.toml")
    write_config(cfg, os.path.join(a.work, case + ".h5"), CASES[case][1])
    t0 = time.time()
    for attempt in range(3):
        for f in os.listdir(d):
            if f.startswith("rc."):
                os.remove(os.path.join(d, f))
        with open(os.path.join(d, "stdout.txt"), "w") as o, \
             open(os.path.join(d, "stderr.txt"), "w") as e:
            p = subprocess.run(["timeout", "-k", "5", str(a.timeout)] +
                               mpi_cmd(a, a.bin, cfg, d), stdout=o, stderr=e,
                               env=env_with(TD_FAULT_ALLOC=f"{rank}:{k}"),
                               cwd=d)
        # The banner comes before the first allocation of trunc-dist's own
        # code: without it the launch itself failed (Open MPI under load,
        # e.g. "OPAL ERROR: Unreachable" in MPI_Init), not the program.
        if launched(d):
            break
    dt = time.time() - t0
    if p.returncode == 124 or p.returncode == 137:
        probs, rcs = [f"hang: killed after {a.timeout} s"], []
    elif p.returncode:
        probs, rcs = [f"mpiexec failed ({p.returncode})"], []
    else:
        probs, rcs = check_result(a, d, case, stage, CASES[case][2])
    msg = ""
    errp = os.path.join(d, "stderr.txt")
    for l in open(errp).read().splitlines():
        if l.startswith("trunc-dist: error:"):
            msg = l[len("trunc-dist: error: "):]
    if not probs and not a.keep:
        shutil.rmtree(d)
    return dict(case=case, rank=rank, k=k, stage=stage, fn=fn, dt=dt,
                probs=probs, rc=rcs[0] if rcs else "-", msg=msg, dir=d)


def trace_case(a, case):
    gen, extra, expect = CASES[case]
    data = os.path.join(a.work, case + ".h5")
    p = run([a.python, GEN, data] + gen)
    if p.returncode:
        sys.exit(f"fault_sweep: gen_data.py failed: {p.stderr}")
    d = os.path.join(a.work, "trace_" + case)
    os.makedirs(d)
    cfg = os.path.join(d, "config.toml")
    write_config(cfg, data, extra)
    for attempt in range(3):
        p = subprocess.run(["timeout", "-k", "5", "120"] +
                           mpi_cmd(a, a.bin, cfg, d), capture_output=True,
                           text=True, cwd=d,
                           env=env_with(TD_FAULT_TRACE=os.path.join(d, "trace")))
        with open(os.path.join(d, "stdout.txt"), "w") as f:
            f.write(p.stdout)
        if launched(d):
            break
    rcs = [open(os.path.join(d, f"rc.{r}")).read().strip()
           for r in range(a.np)]
    if p.returncode or rcs != [str(expect)] * a.np:
        sys.exit(f"fault_sweep: the clean {case} run failed ({rcs}):\n"
                 f"{p.stdout}\n{p.stderr}")
    return {r: read_trace(os.path.join(d, f"trace.{r}"))
            for r in range(a.np)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--mpiexec", default="mpiexec")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--np", type=int, default=3)
    ap.add_argument("--ranks", default="0,2")
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1,
                    help="OMP_NUM_THREADS (above 1 the allocation order, so "
                         "which call K hits, varies between runs)")
    ap.add_argument("--timeout", type=int, default=20)
    ap.add_argument("--cases", default=DEFAULT_CASES,
                    help="comma-separated, of " + ", ".join(CASES))
    ap.add_argument("--sample", choices=["function", "site", "all"],
                    default="function",
                    help="fail the first allocation of every (stage, "
                         "function) pair and of its last call site "
                         "(function), of every (stage, call site) pair "
                         "(site) or every allocation (all)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the directories of passing runs")
    ap.add_argument("--plan", action="store_true",
                    help="print the injection points and stop")
    a = ap.parse_args()
    global THREADS
    THREADS = a.threads
    a.bin = os.path.abspath(a.bin)
    a.work = os.path.abspath(a.work)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(os.path.join(a.work, "runs"))
    ranks = [int(r) for r in a.ranks.split(",")]
    t_start = time.time()

    plan, seen = [], {r: set() for r in ranks}
    per_stage = collections.OrderedDict()
    for case in a.cases.split(","):
        traces = trace_case(a, case)
        names = symbolize(a.bin, {x for r in ranks for _, x in traces[r]})
        total = {r: len(traces[r]) for r in ranks}
        print(f"fault_sweep: {case}: allocations per rank "
              + ", ".join(f"{r}: {total[r]}" for r in ranks))
        for r in ranks:
            # loading, the Theorem 6 search and finishing run the same
            # code in every case: covered once; the lifted constructions'
            # stages per case (a helper fails differently under another
            # caller: td_lift_init under pieces and under the polytope)
            lab = [(k, addr, f"{st} [{case}]" if st.split("/")[0] in
                    ("lifted", "pieces", "polytope") else st)
                   for k, addr, st in label(traces[r], names)]
            picks = set()
            if a.sample == "all":
                picks = {k for k, _, _ in lab}
            elif a.sample == "site":
                first = {}
                for k, addr, stage in lab:
                    first.setdefault((stage, addr), k)
                picks = {k for key, k in first.items() if key not in seen[r]}
                seen[r].update(first)
            else:
                # per (stage, function): the first allocation, and the
                # first one at its last call site (address order)
                first, last = {}, {}
                for k, addr, stage in lab:
                    key = (stage, names[addr])
                    first.setdefault(key, k)
                    if key not in last or int(addr, 16) > last[key][0]:
                        last[key] = (int(addr, 16), k)
                for key in first:
                    if key not in seen[r]:
                        picks |= {first[key], last[key][1]}
                seen[r].update(first)
            for k, addr, stage in lab:
                if k in picks:
                    plan.append((case, r, k, stage, names[addr]))
                    n = per_stage.setdefault(stage, collections.Counter())
                    n[r] += 1
    print("fault_sweep: injection points per stage (rank: count)")
    for stage, n in per_stage.items():
        print(f"  {stage:36s} " + "  ".join(f"{r}: {n[r]:3d}" for r in ranks))
    print(f"fault_sweep: {len(plan)} injected runs")
    if a.plan:
        for p in plan:
            print("  %s rank %d K %d %s %s" % p)
        return 0

    results = []
    with concurrent.futures.ThreadPoolExecutor(a.jobs) as ex:
        futs = [ex.submit(inject, a, *p) for p in plan]
        for f in concurrent.futures.as_completed(futs):
            results.append(f.result())
    results.sort(key=lambda x: (x["case"], x["rank"], x["k"]))
    bad = [x for x in results if x["probs"]]
    codes = collections.Counter(x["rc"] for x in results)
    msgs = collections.Counter((x["stage"], x["msg"]) for x in results
                               if x["msg"])
    print("fault_sweep: exit codes " +
          ", ".join(f"{c}: {n}" for c, n in sorted(codes.items())))
    print("fault_sweep: error lines per stage")
    for (stage, msg), n in sorted(msgs.items()):
        print(f"  {stage:36s} {n:3d} x {msg[:100]}")
    for x in results:
        if x["rc"] == str(CASES[x["case"]][2]) and not x["probs"]:
            print(f"fault_sweep: tolerated (exit {x['rc']}, result kept): "
                  f"{x['case']} rank {x['rank']} K {x['k']} {x['stage']} "
                  f"in {x['fn']}")
    for x in bad:
        print(f"FAIL {x['case']} rank {x['rank']} K {x['k']} "
              f"[{x['stage']}] in {x['fn']}: {'; '.join(x['probs'])} "
              f"({x['dir']})")
    print(f"fault_sweep: {len(results) - len(bad)} of {len(results)} runs "
          f"passed in {time.time() - t_start:.0f} s")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
