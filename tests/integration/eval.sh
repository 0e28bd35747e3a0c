#!/usr/bin/env bash
# trunc-dist eval: a result's network on other data, at 3 ranks with rows
# spread (eval reads in blocks of 1024, so the test split has 3000+ rows).
#  - a pieces network (overlapping classes, lifted width, structured pass)
#    on its own training data: accuracy 100 %;
#  - on another draw of the same kind (3500 rows): the accuracy eval prints
#    equals the one an independent NumPy forward pass of the dense /network
#    layers gives (the structured form is the same function);
#  - a network of another feature count, or a label the network does not
#    know: exit 2 on every rank, naming the file.
#
#   eval.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args eval "$@"
fail() { echo "eval: FAIL: $*" >&2; exit 1; }

"$PYTHON" "$here/gen_data.py" "$WORK/train.h5" --kind overlap --m 3 --n 600 --seed 51
"$PYTHON" "$here/gen_data.py" "$WORK/test.h5" --kind overlap --m 3 --n 3500 --seed 52
"$PYTHON" "$here/gen_data.py" "$WORK/wide.h5" --kind clusters --q 2 --m 5 --n 300 --seed 53
"$PYTHON" "$here/gen_data.py" "$WORK/other.h5" --kind clusters --q 2 --m 3 --n 300 --seed 54 \
    --label-offset 90
printf '[data]\npath = "train.h5"\n[output]\npath = "net.h5"\n[parallel]\nblock_rows = 16\n' \
    > "$WORK/config.toml"
"${mpiexec_cmd[@]}" --oversubscribe -n 2 "$BIN" "$WORK/config.toml" > "$WORK/build.out"
grep -q "pieces construction" "$WORK/build.out" || fail "expected a pieces network"

# run NAME EXPECT ARGS...: eval at 3 ranks, every rank's exit code recorded
run() {
    local name=$1 expect=$2
    shift 2
    "${mpiexec_cmd[@]}" --oversubscribe -n 3 sh -c \
        '"$0" eval "$1" "$2" > "$3.out.$OMPI_COMM_WORLD_RANK" 2> "$3.err.$OMPI_COMM_WORLD_RANK"; echo $? > "$3.rc.$OMPI_COMM_WORLD_RANK"; exit 0' \
        "$BIN" "$@" "$WORK/$name" || true
    for r in 0 1 2; do
        [ "$(cat "$WORK/$name.rc.$r")" = "$expect" ] ||
            fail "$name: rank $r exit $(cat "$WORK/$name.rc.$r"), expected $expect"
    done
}

run self 0 "$WORK/net.h5" "$WORK/train.h5"
grep -q "accuracy 100.0000% (600 / 600)" "$WORK/self.out.0" || fail "self: $(cat "$WORK/self.out.0")"

run test 0 "$WORK/net.h5" "$WORK/test.h5"
got=$(sed -n 's/.*accuracy \([0-9.]*\)% (\([0-9]*\) \/ \([0-9]*\)).*/\2 \3/p' "$WORK/test.out.0")
want=$("$PYTHON" - "$WORK/net.h5" "$WORK/test.h5" <<'EOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f, h5py.File(sys.argv[2], "r") as d:
    g = f["network"]; L = int(g.attrs["num_layers"])
    a = d["X"][...].astype(np.float64); y = d["y"][...]
    for l in range(1, L + 1):
        a = a @ g[f"layer_{l}/weight"][...].T + g[f"layer_{l}/bias"][...]
        if l < L:
            a = np.maximum(a, 0)
    T = g["targets"][...]; lab = g["label_values"][...]
    pred = lab[np.argmin(((a[:, None, :] - T[None]) ** 2).sum(-1), 1)]
    print(int((pred == y).sum()), len(y))
EOF
)
[ "$got" = "$want" ] || fail "test split: eval says '$got' correct, NumPy says '$want'"
echo "eval: test split $got (NumPy: $want)"

run wide 2 "$WORK/net.h5" "$WORK/wide.h5"
grep -q "wide.h5: 5 features, the network takes 3" "$WORK/wide.err.0" ||
    fail "wide: $(cat "$WORK/wide.err.0")"
run other 2 "$WORK/net.h5" "$WORK/other.h5"
grep -q "other.h5: label 9[0-9] is not a class of the network" "$WORK/other.err.0" ||
    fail "other: $(cat "$WORK/other.err.0")"
run nonet 2 "$WORK/train.h5" "$WORK/train.h5"
grep -q "train.h5: not a trunc-dist result" "$WORK/nonet.err.0" ||
    fail "nonet: $(cat "$WORK/nonet.err.0")"
echo "eval: ok"
