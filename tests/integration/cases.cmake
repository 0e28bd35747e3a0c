# End-to-end cases: run the trunc-dist binary under mpiexec on generated data
# and check the result independently (tests/integration/*.py, NumPy only).
# Included from tests/CMakeLists.txt (TD_TEST_ENV, TD_PYTHON, MPIEXEC_*).
# Every test gets its own scratch directory under the build tree.
set(TD_INTEG ${CMAKE_CURRENT_SOURCE_DIR}/integration)
set(TD_E2E_DIR ${CMAKE_CURRENT_BINARY_DIR}/e2e)

# td_case(NAME NP VAR=VALUE ...): one run_case.sh invocation; see the header
# of run_case.sh for the variables (KIND Q M N SEED DTYPE EXPECT MSG ...).
#
# Rows are split over the ranks in whole blocks of parallel.block_rows
# (default 1024), so with N of a few thousand the program's default would
# put every row on one or two ranks.  run_case.sh therefore writes
# block_rows = 16 for NP > 1 unless a case sets BLOCK_ROWS, and fails unless
# every rank owns at least 2 blocks (row_spread.py prints the split) and the
# output's /run records that layout.  A few cases use other sizes (37: not a
# power of two, last block partial; 32, 64) so the block size varies too.
# REF_NP=1 reruns the same config on one rank and requires identical bytes.
function(td_case name np)
  add_test(NAME e2e_${name}
           COMMAND bash ${TD_INTEG}/run_case.sh
                   BIN=$<TARGET_FILE:trunc-dist>
                   MPIEXEC=${MPIEXEC_EXECUTABLE}
                   PYTHON=${TD_PYTHON}
                   NP=${np}
                   WORK=${TD_E2E_DIR}/${name}
                   ${ARGN})
  set_tests_properties(e2e_${name} PROPERTIES ENVIRONMENT "${TD_TEST_ENV}" LABELS e2e
                       TIMEOUT 300)
endfunction()

# td_script_case(NAME): a whole-run script tests/integration/NAME.sh (its
# header says what it checks) as test e2e_NAME in its own scratch directory.
function(td_script_case name)
  add_test(NAME e2e_${name}
           COMMAND bash ${TD_INTEG}/${name}.sh
                   BIN=$<TARGET_FILE:trunc-dist>
                   MPIEXEC=${MPIEXEC_EXECUTABLE}
                   PYTHON=${TD_PYTHON}
                   WORK=${TD_E2E_DIR}/${name})
  set_tests_properties(e2e_${name} PROPERTIES ENVIRONMENT "${TD_TEST_ENV}"
                       LABELS e2e TIMEOUT 300)
endfunction()

# --- zero loss on separable clusters -------------------------------------
# (Q, M, N): M > Q, M == Q, M >> Q, and 1-D two classes; plus M == Q - 1.
# All four rank counts for one shape, two for the others.
foreach(np 1 2 3 4)
  td_case(q3_m5_np${np} ${np} KIND=clusters Q=3 M=5 N=1500 SEED=${np} DTYPE=float64)
endforeach()
td_case(q4_m4_np1 1 KIND=clusters Q=4 M=4 N=2000 SEED=11 DTYPE=float32)
td_case(q4_m4_np3 3 KIND=clusters Q=4 M=4 N=2000 SEED=11 DTYPE=float64 YDTYPE=int16
        BLOCK_ROWS=37 REF_NP=1)
td_case(q6_m12_np2 2 KIND=clusters Q=6 M=12 N=5000 SEED=12 DTYPE=float32 BLOCK_ROWS=64)
td_case(q6_m12_np4 4 KIND=clusters Q=6 M=12 N=5000 SEED=12 DTYPE=float64 YDTYPE=uint8
        BLOCK_ROWS=64)
td_case(q2_m1_np2 2 KIND=clusters Q=2 M=1 N=400 SEED=13 DTYPE=float64)
td_case(q2_m1_np3 3 KIND=clusters Q=2 M=1 N=400 SEED=13 DTYPE=float32 YDTYPE=int64)
td_case(q5_m4_np2 2 KIND=clusters Q=5 M=4 N=2500 SEED=14 DTYPE=float64 BLOCK_ROWS=32)
# 2 threads per rank
td_case(q3_m5_np2_omp2 2 KIND=clusters Q=3 M=5 N=1500 SEED=2 OMP=2)
# config in a subdirectory: relative paths resolve against the config's dir
td_case(config_subdir_np2 2 KIND=clusters Q=3 M=4 N=600 SEED=15 CONFIG_DIR=conf)
# explicit order, as label values (labels are 7, 10, 13)
td_case(order_np2 2 KIND=clusters Q=3 M=3 N=900 SEED=16
        "EXTRA_TOML=[construction]\\norder = [13, 7, 10]"
        "STDOUT_MSG=layer  1: class 13")
# the talk's segment rule for base points
td_case(segment_rule_np2 2 KIND=clusters Q=4 M=6 N=1200 SEED=17 REF_NP=1
        "EXTRA_TOML=[construction]\\nbase_point = \"segment\"")

# --- 64 ranks on 2 cores --------------------------------------------------
# N = 3210 rows in blocks of 16: 201 blocks, 3 or 4 (48..64 rows) on every
# rank, the last block partial; checked independently and byte-identical to
# the same config on one rank.  Open MPI 4.1 spawns 32 or more local ranks
# from a thread pool (odls_base_cutoff = 32), and that launch hangs here
# (even for /bin/true); odls_base_max_threads = 0 spawns them serially.
# Shared memory only (ob1 over self,vader): 64 ranks probing ucx, ofi and
# openib at MPI_Init cost about a second more of the 2 cores.
td_case(clusters_np64 64 KIND=clusters Q=4 M=6 N=3210 SEED=64 DTYPE=float32
        BLOCK_ROWS=16 REF_NP=1
        "MPI_ARGS=--bind-to none --mca odls_base_max_threads 0 --mca pml ob1 --mca btl self,vader")
# it keeps both cores busy: do not schedule another test beside it
set_tests_properties(e2e_clusters_np64 PROPERTIES TIMEOUT 120 PROCESSORS 2)

# real public data (scikit-learn's digits: constant pixels, tight classes),
# rows spread over 3 ranks and byte-identical to 1 rank
td_case(digits_np3 3 KIND=digits M=64 N=1797 BLOCK_ROWS=64 REF_NP=1)

# every point 50 times: the separator must see through the copies
td_case(copies_np3 3 KIND=copies Q=4 M=6 N=6000 SEED=23 BLOCK_ROWS=64
        "EXTRA_TOML=[separator]\\nworking_set = 8")

# --- not sequentially separable: exit 3, one report line, no output -------
# after the far class, the two mixed classes meet with no base point in the
# certificate: the search stops at once instead of backtracking
td_case(final_dead_end_np3 3 KIND=overlap3 M=3 N=900 SEED=24 EXPECT=3
        "EXTRA_TOML=[construction]\\nmode = \"theorem6\""
        "MSG=ordered 1 of 3 classes"
        "STDOUT_MSG=dead end at step 2 is final")
foreach(np 1 3)
  td_case(overlap_np${np} ${np} KIND=overlap M=3 N=600 SEED=21 EXPECT=3
          "EXTRA_TOML=[construction]\\nmode = \"theorem6\"")
endforeach()
# one point copied with another label: found right after loading, before
# any search, naming the rows (global, the same at any rank count; 315 and
# 789 sit on different ranks at 3 ranks, checked with h5py) and the labels;
# float32 storage gives the same answer
foreach(np 1 3)
  td_case(duplicates_np${np} ${np} KIND=duplicates Q=3 M=3 N=900 SEED=22 EXPECT=3
          "MSG=rows 315 and 789 of 'X' are identical but labelled 13 and 10 (1 distinct point with")
endforeach()
td_case(duplicates_f32_np2 2 KIND=duplicates Q=3 M=3 N=900 SEED=22 DTYPE=float32
        EXPECT=3 "MSG=rows 315 and 789 of 'X' are identical")
# in every construction mode: pieces, which handles any other data, too
td_case(duplicates_pieces_np3 3 KIND=duplicates Q=3 M=3 N=900 SEED=22 EXPECT=3
        "EXTRA_TOML=[construction]\\nmode = \"pieces\""
        "MSG=rows 315 and 789 of 'X' are identical")
# best effort on inseparable data: still exit 3, but the soft-margin network
# is written and its /verification reports the real (nonzero) cost
td_case(best_effort_np2 2 KIND=overlap M=3 N=600 SEED=21 EXPECT=3 KEEP_OUTPUT=1
        "EXTRA_TOML=[construction]\\non_inseparable = \"best_effort\""
        "MSG=best-effort")

# --- tight layers: float64 rounding ----------------------------------------
# Every gap 1e-6 of the spread, cond(W^(l)) 1e6..2e7 per layer.  Merging two
# such cones in one weight matrix rounds at u cond^2: points crossed ReLU
# kinks and the output missed by 1.0.  With reset layers between the cones
# the independent check passes at ~4e-10.
td_case(tight_q4_np2 2 KIND=tight Q=4 M=6 N=400 SEED=3)
# the same network asked for 1e-13: exit 4 naming the rounding floor, not a
# bare verification failure
td_case(tight_floor_np1 1 KIND=tight Q=4 M=6 N=400 SEED=3 EXPECT=4
        "EXTRA_TOML=[verify]\ntolerance = 1e-13"
        "MSG=the float64 pass follows the construction at every layer")

# --- bad input: exit 2 on every rank, one error line naming the thing -----
foreach(np 1 3)
  td_case(missing_file_np${np} ${np} KIND=clusters Q=2 M=2 N=100
          DATA_PATH=missing.h5 EXPECT=2 "MSG=missing.h5")
  td_case(bad_dataset_np${np} ${np} KIND=clusters Q=2 M=2 N=100
          "DATA_TOML=x_dataset = \"nope\"" EXPECT=2 "MSG=no dataset 'nope'")
  td_case(unknown_key_np${np} ${np} KIND=clusters Q=2 M=2 N=100
          "EXTRA_TOML=[construction]\\nkapa = 0.3" EXPECT=2 "MSG=kapa")
  td_case(bad_gap_np${np} ${np} KIND=clusters Q=2 M=2 N=100
          "EXTRA_TOML=[separator]\\ngap = 2" EXPECT=2
          "MSG='separator.gap' must be in (0, 0.5], got 2")
  td_case(nan_np${np} ${np} KIND=nan Q=2 M=3 N=200 DTYPE=float32 EXPECT=2
          "MSG=is not finite")
endforeach()
td_case(few_features_np2 2 KIND=clusters Q=4 M=2 N=400 EXPECT=2
        "EXTRA_TOML=[construction]\\nmode = \"theorem6\""
        "MSG=need at least 3 features")
# the output path is the training data itself: refused, data untouched
td_case(output_is_data_np2 2 KIND=clusters Q=2 M=2 N=100 OUT=train.h5 EXPECT=2
        "MSG=is the data file: refusing to overwrite the training data")
td_case(no_outdir_np2 2 KIND=clusters Q=2 M=2 N=100 OUT=missing_dir/network.h5
        EXPECT=5 "MSG=does not exist")

# --- determinism across rank and thread counts ----------------------------
td_script_case(determinism)

# --- construction.output_layer and section 6.2's neural collapse ----------
td_script_case(neural_collapse)

# --- float32 storage: same results as the values stored as float64 --------
td_script_case(precision)

# --- an existing result is replaced only when asked -----------------------
td_script_case(overwrite)

# --- trunc-dist eval: a network on other data -----------------------------
td_script_case(eval)
# custom target vectors: config and dataset, every construction, refusals
td_script_case(targets)

# --- scripts/: exports (.npz, .pt, .onnx) and plots of a result ----------
td_script_case(export)

# --- stop by signal, checkpoint, resume at other rank counts -------------
td_script_case(resume)

# --- data of extreme magnitude: built at an exact power-of-two scale ------
td_script_case(extreme)

# --- chunked and compressed inputs, reads in pieces, shards too big -------
td_script_case(inputs)

# --- --dry-run: a run's checks, a report, nothing written ------------------
td_script_case(dry_run)

# --- trunc-dist convert: CSV, NumPy, LIBSVM, IDX to the input contract ------
td_script_case(convert)

# --- --quiet, --verbose, --progress, the summary, the times in /run --------
td_script_case(report_levels)

# --- the README's example: --example, run on 2 ranks, check ---------------
add_test(NAME e2e_example
         COMMAND bash -c [=[
set -euo pipefail
bin=$1; mpiexec=$2; py=$3; integ=$4; dir=$5
rm -rf "$dir"
"$bin" --example "$dir"
test -f "$dir/example.h5" && test -f "$dir/example.toml"
"$mpiexec" --oversubscribe -n 2 "$bin" "$dir/example.toml"
"$py" "$integ/check_network.py" "$dir/example_network.h5" "$dir/example.h5"
# the example keeps the default block_rows (1024): its 2000 rows are 2 blocks,
# one per rank
"$py" "$integ/row_spread.py" "$dir/example.h5" --np 2 --block-rows 1024 \
    --min-blocks 1 --network "$dir/example_network.h5"
]=] e2e_example
                 $<TARGET_FILE:trunc-dist> ${MPIEXEC_EXECUTABLE} ${TD_PYTHON}
                 ${TD_INTEG} ${TD_E2E_DIR}/example)
set_tests_properties(e2e_example PROPERTIES ENVIRONMENT "${TD_TEST_ENV}" LABELS e2e
                     TIMEOUT 300)

# --- command line ---------------------------------------------------------
add_test(NAME e2e_version COMMAND $<TARGET_FILE:trunc-dist> --version)
set_tests_properties(e2e_version PROPERTIES ENVIRONMENT "${TD_TEST_ENV}" LABELS e2e
                     PASS_REGULAR_EXPRESSION "trunc-dist [0-9]+\\.[0-9]+")
add_test(NAME e2e_help COMMAND $<TARGET_FILE:trunc-dist> --help)
set_tests_properties(e2e_help PROPERTIES ENVIRONMENT "${TD_TEST_ENV}" LABELS e2e
                     PASS_REGULAR_EXPRESSION "usage:")
add_test(NAME e2e_bad_args COMMAND $<TARGET_FILE:trunc-dist> --bogus)
set_tests_properties(e2e_bad_args PROPERTIES ENVIRONMENT "${TD_TEST_ENV}" LABELS e2e
                     WILL_FAIL TRUE)

# --- order search (issue 3): the "trap" geometry, see gen_data.py ----------
# With the talk's segment rule, greedy alone (no backtracking) collapses 3
# first and dies at step 4 with class 21 trapped (B = 8 and D = 30 are
# mirror images: either goes first) ...
td_case(trap_greedy_fails_np2 2 "GEN=--kind trap --m 3 --n 200"
        "EXTRA_TOML=[construction]\\nbacktrack_budget = 0\\nbase_point = \"segment\"\\nmode = \"theorem6\"" EXPECT=3
        "MSG=ordered 3 of 4 classes"
        "STDOUT_MSG=backtrack budget of 0 exhausted")
# (no square brackets in these strings: CMake lists do not split inside them)
# ... the depth-first search backtracks and reaches zero loss (rows spread
# over 3 ranks, byte-identical to 1 rank after the undo) ...
td_case(trap_backtracks_np3 3 "GEN=--kind trap --m 3 --n 200" REF_NP=1
        "EXTRA_TOML=[construction]\\nbase_point = \"segment\""
        "STDOUT_MSG=backtrack: undo layer 1 (class 3)")
# ... and by default a free base point for the second of B and D leaves the
# B-C-D line, so greedy gets through with no backtracking at all ...
td_case(trap_free_greedy_np2 2 "GEN=--kind trap --m 3 --n 200"
        "EXTRA_TOML=[construction]\\nbacktrack_budget = 0"
        "STDOUT_MSG=(free base point)")
# ... although class 21 cannot be separated from the rest at the start
# (one-vs-rest fails), with the evidence named.
td_case(trap_ovr_fails_np2 2 "GEN=--kind trap --m 3 --n 200"
        "EXTRA_TOML=[construction]\\norder = [21, 8, 3, 30]\\nmode = \"theorem6\"" EXPECT=3
        "MSG=class 21: hulls meet")
# collinear3: with the segment rule alone every base point lands on the
# line and the middle class stays trapped ...
td_case(collinear3_np2 2 "GEN=--kind collinear3 --m 2 --n 150"
        "EXTRA_TOML=[construction]\\nbase_point = \"segment\"\\nmode = \"theorem6\"" EXPECT=3
        "MSG=ordered 2 of 3 classes")
# ... free base points (Definition 5: anywhere on H) leave the line, so the
# middle class gets through and the three base points are affinely
# independent (M = Q - 1); rows spread over 3 ranks, byte-identical to 1.
td_case(collinear3_np1 1 "GEN=--kind collinear3 --m 2 --n 150"
        "STDOUT_MSG=(free base point)")
td_case(collinear3_np3 3 "GEN=--kind collinear3 --m 2 --n 150" REF_NP=1
        "STDOUT_MSG=(free base point)")
# four on a line in M = 3: two trapped classes, base points off the line in
# two different directions
td_case(collinear4_np1 1 "GEN=--kind collinear4 --m 3 --n 400"
        "STDOUT_MSG=(free base point)")
td_case(collinear4_np3 3 "GEN=--kind collinear4 --m 3 --n 400" REF_NP=1
        "STDOUT_MSG=(free base point)")
# wide clusters on a line (spread 1.5, gaps 10): the free base point of the
# second layer still catches the middle class (the shadow test looks at its
# mean only), so the search undoes the layers and rebuilds the first one
# with a free base point too (its certificates used base points)
td_case(collinear3wide_np1 1 "GEN=--kind collinear3wide --m 2 --n 300 --seed 1"
        "STDOUT_MSG=retry: layer 1 (class 30) with a free base point")
td_case(collinear3wide_np3 3 "GEN=--kind collinear3wide --m 2 --n 300 --seed 1"
        REF_NP=1 "STDOUT_MSG=retry: layer 1 (class 30) with a free base point")

# an explicit order must name every class of the data exactly once
td_case(order_unknown_label_np2 2 KIND=clusters Q=3 M=3 N=300
        "EXTRA_TOML=[construction]\\norder = [7, 10, 99]" EXPECT=2
        "MSG=label 99 in construction.order is not a class of the data")
td_case(order_too_short_np3 3 KIND=clusters Q=3 M=3 N=300
        "EXTRA_TOML=[construction]\\norder = [7, 10]" EXPECT=2
        "MSG=construction.order lists 2 labels but the data has 3 classes")

# the Slurm batch scripts in jobs/, run for real: each test starts its own
# single-node Slurm (scripts/slurm_local.sh) and sbatch --wait returns the
# job's code.  e2e_slurm: the single-node, hybrid and array jobs (about
# 25 s); e2e_slurm_requeue: a build stopped by scancel and by the
# time-limit signal (--time=1, Slurm's minimum) finishes after a requeue
# (about 90 s, longer on a busy machine)
add_test(NAME e2e_slurm COMMAND bash ${TD_INTEG}/slurm_job.sh)
set_tests_properties(e2e_slurm PROPERTIES LABELS e2e TIMEOUT 240 RUN_SERIAL TRUE
  ENVIRONMENT "${TD_TEST_ENV};BIN=$<TARGET_FILE:trunc-dist>;WORK=${TD_E2E_DIR}/slurm;PYTHON=${TD_PYTHON}")
add_test(NAME e2e_slurm_requeue COMMAND bash ${TD_INTEG}/slurm_requeue.sh)
set_tests_properties(e2e_slurm_requeue PROPERTIES LABELS e2e TIMEOUT 600 RUN_SERIAL TRUE
  ENVIRONMENT "${TD_TEST_ENV};BIN=$<TARGET_FILE:trunc-dist>;WORK=${TD_E2E_DIR}/slurm_requeue;PYTHON=${TD_PYTHON}")

# --- any data: the lifted constructions (issue 8) --------------------------
# Every case: exit 0 and zero loss by the independent forward pass of the
# exported layers, at 1 and 3 ranks with rows spread over the ranks; the
# 3-rank runs are byte-identical to 1 rank (REF_NP=1).
foreach(np 1 3)
  # three collinear clusters in the plane, lifted (auto builds them at
  # width M with a free base point, see collinear3 above)
  td_case(any_collinear3_np${np} ${np} "GEN=--kind collinear3 --m 2 --n 150"
          "EXTRA_TOML=[construction]\\nmode = \"lifted\"" REF_NP=1
          "STDOUT_MSG=lifted construction at width 5")
  # 3, 5 and 8 classes in the plane, 3 on a line: M < Q - 1, lifted
  td_case(any_plane_q3_np${np} ${np} KIND=clusters Q=3 M=2 N=600 SEED=31
          "EXTRA_TOML=[construction]\\nmode = \"lifted\"" REF_NP=1)
  td_case(any_plane_q5_np${np} ${np} KIND=clusters Q=5 M=2 N=1000 SEED=32
          REF_NP=1 "STDOUT_MSG=(M < Q - 1): no output layer at width M")
  td_case(any_plane_q8_np${np} ${np} KIND=clusters Q=8 M=2 N=1600 SEED=33
          REF_NP=1)
  # SLS only in the lifted sense: at width M = 1 Theorem 6 cannot hold
  # three classes, lifted greedy collapses them one by one
  td_case(any_line_q3_np${np} ${np} KIND=clusters Q=3 M=1 N=600 SEED=34
          "EXTRA_TOML=[construction]\\nmode = \"lifted\"" REF_NP=1
          "STDOUT_MSG=lifted construction at width 4")
  # overlapping classes without duplicates: pieces
  td_case(any_overlap_np${np} ${np} KIND=overlap M=3 N=600 SEED=21 REF_NP=1
          "STDOUT_MSG=not sequentially separable at width 3")
  # random labels, pure memorisation
  td_case(any_random_labels_np${np} ${np} KIND=random_labels Q=2 M=3 N=2000
          SEED=35 REF_NP=1)
endforeach()
# lifted is strict: overlapping classes are not separable even lifted
td_case(any_lifted_overlap_np2 2 KIND=overlap M=3 N=600 SEED=21 EXPECT=3
        "EXTRA_TOML=[construction]\\nmode = \"lifted\""
        "MSG=even lifted")
# theorem6 is strict, and refuses M < Q - 1 up front
td_case(any_theorem6_plane_np2 2 KIND=clusters Q=5 M=2 N=500 EXPECT=2
        "EXTRA_TOML=[construction]\\nmode = \"theorem6\""
        "MSG=the lifted constructions work at any M")
td_case(any_bad_mode_np2 2 KIND=clusters Q=3 M=3 N=300 EXPECT=2
        "EXTRA_TOML=[construction]\\nmode = \"magic\""
        "MSG=must be \"auto\", \"theorem6\", \"lifted\", \"pieces\", \"polytope\" or \"clustered\"")
# auto's Theorem 6 search is bounded: past construction.auto_budget it
# says so and builds pieces (exact all the same)
td_case(any_auto_budget_np2 2 KIND=clusters Q=3 M=4 N=600 SEED=36 REF_NP=1
        "EXTRA_TOML=[construction]\\nauto_budget = 1e-12"
        "STDOUT_MSG=reached construction.auto_budget")

# --- binary data inside a polytope (construction.mode = "polytope") ---------
# A ball inside a shell: no hyperplane separates them, k facets of the
# shell around the ball do; two hidden layers (widths k and 1) at zero loss
# by the independent forward pass, rows spread over 3 ranks and
# byte-identical to 1 rank.
foreach(np 1 3)
  td_case(polytope_concentric_m2_np${np} ${np} KIND=concentric M=2 N=1000 SEED=41
          "EXTRA_TOML=[construction]\\nmode = \"polytope\"" REF_NP=1
          "STDOUT_MSG=polytope construction, class")
  td_case(polytope_concentric_m5_np${np} ${np} KIND=concentric M=5 N=1500 SEED=42
          DTYPE=float32 "EXTRA_TOML=[construction]\\nmode = \"polytope\"" REF_NP=1)
endforeach()
# each class inside the other's hull: exit 3 naming a row in the other's hull
td_case(polytope_overlap_np3 3 KIND=overlap M=2 N=600 SEED=21 EXPECT=3
        "EXTRA_TOML=[construction]\\nmode = \"polytope\""
        "MSG=not polytope-separable: row ")
# binary only: Q = 3 is an input error naming the mode
td_case(polytope_q3_np2 2 KIND=clusters Q=3 M=3 N=300 EXPECT=2
        "EXTRA_TOML=[construction]\\nmode = \"polytope\""
        "MSG=construction.mode = \"polytope\" needs binary data")
# auto on binary data beyond Theorem 6: a ball inside a shell is not
# sequentially separable, and its polytope has two hidden layers
foreach(np 1 3)
  td_case(any_auto_polytope_np${np} ${np} "GEN=--kind concentric --m 2 --n 1200"
          SEED=37 REF_NP=1 "STDOUT_MSG=polytope construction")
endforeach()
# bad values of the any-data keys: exit 2 on every rank, naming the key
td_case(any_bad_floor_np3 3 KIND=clusters Q=3 M=3 N=300 EXPECT=2
        "EXTRA_TOML=[construction]\\nmargin_floor = 0.5"
        "MSG='construction.margin_floor' must be in (0, 0.1], got 0.5")
td_case(any_bad_budget_np3 3 KIND=clusters Q=3 M=3 N=300 EXPECT=2
        "EXTRA_TOML=[construction]\\nauto_budget = -1"
        "MSG='construction.auto_budget' must be finite and > 0")
td_case(any_bad_grow_np3 3 KIND=clusters Q=3 M=3 N=300 EXPECT=2
        "EXTRA_TOML=[construction]\\ngrow_rounds = 1001"
        "MSG='construction.grow_rounds' must be in [0, 1000]")
td_case(any_bad_forward_np3 3 KIND=clusters Q=3 M=3 N=300 EXPECT=2
        "EXTRA_TOML=[verify]\\nforward = \"sparse\""
        "MSG='verify.forward' must be")

# --- trunc-dist generate: synthetic data in parallel, the same bytes at any
# rank count, each kind's property checked independently (LP, Proposition 3)
td_script_case(generate)

# --- clustered data (Proposition 3, Corollary 4): the width-Q network, the
# conditions recomputed independently, auto's choice and its reasons
td_script_case(clustered)
