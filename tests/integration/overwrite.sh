#!/usr/bin/env bash
# An existing result is never replaced unless asked: a second run into the
# same output.path exits 2 on every rank, before any work, naming the key
# and --force, and leaves the file's bytes unchanged; output.overwrite =
# true or --force replace it.  2 ranks.
#
#   overwrite.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args overwrite "$@"
fail() { echo "overwrite: FAIL: $*" >&2; exit 1; }

"$PYTHON" "$here/gen_data.py" "$WORK/train.h5" --q 3 --m 4 --n 600 --seed 61
printf '[data]\npath = "train.h5"\n[output]\npath = "net.h5"\n' > "$WORK/a.toml"
printf '[data]\npath = "train.h5"\n[output]\npath = "net.h5"\noverwrite = true\n' \
    > "$WORK/b.toml"

# run NAME EXPECT ARGS...: 2 ranks, every rank's exit code recorded
run() {
    local name=$1 expect=$2
    shift 2
    td_run_ranks "$name" 2 "$expect" "$BIN" "$@"
}

run first 0 "$WORK/a.toml"
sum=$(cksum < "$WORK/net.h5")
run again 2 "$WORK/a.toml"
grep -q "a.toml: output.path '.*net.h5' exists: set output.overwrite = true or run with --force" \
    "$WORK/again.err.0" || fail "again: $(cat "$WORK/again.err.0")"
grep -q "^data:" "$WORK/again.out.0" && fail "again: data were read before the refusal"
[ "$(cksum < "$WORK/net.h5")" = "$sum" ] || fail "the refused run changed net.h5"
run key 0 "$WORK/b.toml"
run force 0 --force "$WORK/a.toml"
"$PYTHON" "$here/check_network.py" "$WORK/net.h5" "$WORK/train.h5"
echo "overwrite: ok"
