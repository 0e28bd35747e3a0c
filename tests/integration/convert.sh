#!/usr/bin/env bash
# trunc-dist convert (issue 10): convert_cases.py makes every input format
# with NumPy, converts it and checks X and y exactly with h5py, and checks
# that bad input exits 2 on every rank with the line or record named and
# no output left (its header lists the cases).  Then real data from a
# Debian package, scikit-learn's iris.csv (a header row of another length)
# and digits.csv.gz (gzipped, no header), are converted and built to zero
# loss at 2 ranks, checked by the independent forward pass.
#
#   convert.sh BIN=... WORK=... [MPIEXEC=mpiexec] [PYTHON=/usr/bin/python3]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=script_args.sh
. "$here/script_args.sh"
td_script_args convert "$@"
fail() { echo "convert: FAIL: $*" >&2; exit 1; }
# shared memory only: a singleton MPI_Init probing every transport costs
# half a second, and this test starts the binary about 60 times
export OMPI_MCA_pml="${OMPI_MCA_pml:-ob1}" OMPI_MCA_btl="${OMPI_MCA_btl:-self,vader}"

"$BIN" convert --help | grep -q "usage: trunc-dist convert IN OUT.h5" ||
    fail "convert --help"
"$PYTHON" "$here/convert_cases.py" "$BIN" "$WORK/cases" --mpiexec "$MPIEXEC"

sk=/usr/lib/python3/dist-packages/sklearn/datasets/data
[ -f "$sk/iris.csv" ] && [ -f "$sk/digits.csv.gz" ] ||
    fail "scikit-learn's datasets are missing (python3-sklearn, scripts/setup.sh)"
for name in iris.csv digits.csv.gz; do
    base=${name%%.*}
    "$BIN" convert "$sk/$name" "$WORK/$base.h5" > "$WORK/$base.convert.out"
    cat "$WORK/$base.convert.out"
    printf '[data]\npath = "%s.h5"\n[output]\npath = "%s_net.h5"\n' "$base" "$base" \
        > "$WORK/$base.toml"
    "${mpiexec_cmd[@]}" --oversubscribe -n 2 "$BIN" --quiet "$WORK/$base.toml"
    "$PYTHON" "$here/check_network.py" "$WORK/${base}_net.h5" "$WORK/$base.h5"
done
grep -q "150 rows x 4 features, X float64, y int64 (3 classes" "$WORK/iris.convert.out" ||
    fail "iris: $(cat "$WORK/iris.convert.out")"
grep -q "1797 rows x 64 features" "$WORK/digits.convert.out" ||
    fail "digits: $(cat "$WORK/digits.convert.out")"
# the converted values are the file's, by an independent reader
"$PYTHON" - "$sk" "$WORK" <<'PY'
import sys, gzip, h5py, numpy as np
sk, work = sys.argv[1], sys.argv[2]
for name, base in (("iris.csv", "iris"), ("digits.csv.gz", "digits")):
    op = gzip.open if name.endswith(".gz") else open
    with op(f"{sk}/{name}", "rt") as f:
        a = np.loadtxt(f, delimiter=",", skiprows=1 if base == "iris" else 0)
    with h5py.File(f"{work}/{base}.h5", "r") as h:
        assert np.array_equal(h["X"][...], a[:, :-1]), base
        assert np.array_equal(h["y"][...], a[:, -1].astype(np.int64)), base
print("sklearn data: converted values equal np.loadtxt's")
PY
echo "convert: all checks passed"
