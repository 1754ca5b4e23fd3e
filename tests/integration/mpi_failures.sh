#!/usr/bin/env bash
# recfuse-mpi where things go wrong, and the options it shares with `recfuse run`:
#  - failing trials (a plugin that throws, one that segfaults, one past
#    --time-limit) give the records `recfuse run` gives, the worker's rank
#    before the error, their log and timing kept; each trial runs once;
#  - a worker whose command line fails where rank 0's passes (here: its node
#    lacks the --load-models directory) ends the job with exit 1 and that
#    rank's message instead of hanging;
#  - an output directory that cannot be made is bad input (1), as under
#    `recfuse run`; a recfuse-mpi without its recfuse beside it is an internal
#    error (3);
#  - --save-models, then --load-models, and --fit-cache across ranks.
# Every mpirun runs under `timeout`: a hang fails the test, it never blocks CI.
#
#   mpi_failures.sh MPIEXEC RECFUSE_MPI RECFUSE WORK_DIR TEST_GOOD_PLUGIN
set -euo pipefail
mpiexec="$1"
recfuse_mpi="$2"
recfuse="$3"
work="$4"
plugins="$(dirname "$5")"
rm -rf "$work"
mkdir -p "$work"
mpirun=(timeout -k 10 120 "$mpiexec" --allow-run-as-root --oversubscribe)
export OMPI_MCA_rmaps_base_oversubscribe=1
fail() { echo "FAIL: $1"; [[ -z "${2:-}" ]] || cat "$2"; exit 1; }
scenario() {  # scenario FILE NAME ALGORITHM_TABLES...
  local file="$1" name="$2"
  shift 2
  printf 'name = "%s"\nseeds = [1]\n[dataset]\nformat = "synthetic"\nsynthetic = { users = 200, items = 100, interactions_per_user = 15.0, seed = 7 }\n[evaluation]\ncutoffs = [10]\n' \
    "$name" > "$file"
  for a in "$@"; do printf '[[algorithms]]\n%s\n' "$a" >> "$file"; done
}

# Failing trials: the records of `recfuse run`, but for the rank in the error.
scenario "$work/fail.toml" mpi-failures 'plugin = "test_throws"' 'plugin = "test_segfault"' \
  'plugin = "test_slow"'$'\n''params = { seconds = 60.0 }' 'plugin = "popularity"'
rc=0
"${mpirun[@]}" -n 3 "$recfuse_mpi" run "$work/fail.toml" -o "$work/fail-mpi" --threads 1 --no-cache \
  --time-limit 2 --plugin-path "$plugins" > "$work/fail-mpi.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] || fail "failing trials under mpirun: exit $rc, expected 2" "$work/fail-mpi.log"
rc=0
"$recfuse" run "$work/fail.toml" -o "$work/fail-plain" --threads 1 --no-cache --time-limit 2 \
  --plugin-path "$plugins" > "$work/fail-plain.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] || fail "failing trials under recfuse run: exit $rc, expected 2" "$work/fail-plain.log"
[[ $(grep -c "(ran on rank [12])" "$work/fail-mpi.log") -eq 4 ]] || fail "not 4 trials run once each" "$work/fail-mpi.log"
python3 - "$work/fail-mpi" "$work/fail-plain" <<'PY'
import json, os, pathlib, re, sys
def load(d):
    return {r["trial_id"]: r for r in (json.loads(f.read_text()) for f in pathlib.Path(d, "trials").glob("*.json"))}
mpi, plain = load(sys.argv[1]), load(sys.argv[2])
assert mpi.keys() == plain.keys() and len(mpi) == 4, f"trials {sorted(mpi)} vs {sorted(plain)}"
statuses = sorted(r["status"] for r in plain.values())
assert statuses == ["crashed", "failed", "ok", "timeout"], statuses
for i, p in plain.items():
    m = mpi[i]
    assert m["status"] == p["status"], f"{i}: {m['status']} vs {p['status']}"
    assert set(m) == set(p), f"{p['algorithm']} ({p['status']}): keys only under mpirun {set(m) - set(p)}, only under recfuse run {set(p) - set(m)}"
    assert os.path.isfile(m["log"]), f"{p['algorithm']}: log {m['log']!r} is not a file"
    if p["status"] == "ok":
        assert m["per_user"] == p["per_user"], f"{i}: per-user metrics differ"
    else:
        assert re.fullmatch(r"rank [12]: " + re.escape(p["error"]), m["error"]), f"{i}: {m['error']!r} vs {p['error']!r}"
print("failing trials: records as recfuse run's")
PY
# ... and they resume as failed; --retry-failed runs exactly those again.
rc=0
"${mpirun[@]}" -n 3 "$recfuse_mpi" run "$work/fail.toml" -o "$work/fail-mpi" --threads 1 --no-cache \
  --time-limit 2 --plugin-path "$plugins" > "$work/resume.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] && grep -q "4 trials (3 failed, 4 resumed)" "$work/resume.log" || fail "resume: exit $rc" "$work/resume.log"
rc=0
"${mpirun[@]}" -n 3 "$recfuse_mpi" run "$work/fail.toml" -o "$work/fail-mpi" --threads 1 --no-cache \
  --time-limit 2 --plugin-path "$plugins" --retry-failed > "$work/retry.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] && grep -q "4 trials (3 failed, 1 resumed)" "$work/retry.log" || fail "--retry-failed: exit $rc" "$work/retry.log"
[[ $(grep -c "(ran on rank" "$work/retry.log") -eq 3 ]] || fail "--retry-failed ran not 3 trials" "$work/retry.log"

# A worker whose node lacks the --load-models directory: exit 1 naming the rank, no hang.
scenario "$work/pop.toml" mpi-pop 'plugin = "popularity"'
rc=0
"${mpirun[@]}" -n 2 "$recfuse_mpi" run "$work/pop.toml" -o "$work/nodes" --no-cache --load-models "$work" \
  : -n 1 "$recfuse_mpi" run "$work/pop.toml" -o "$work/nodes" --no-cache --load-models "$work/nowhere" \
  > "$work/nodes.log" 2>&1 || rc=$?
[[ $rc -ne 124 && $rc -ne 137 ]] || fail "a worker's bad command line hung the job" "$work/nodes.log"
[[ $rc -eq 1 ]] || fail "a worker's bad command line: exit $rc, expected 1" "$work/nodes.log"
grep -q "rank 2: --load-models $work/nowhere: no such directory" "$work/nodes.log" || fail "no message of rank 2" "$work/nodes.log"
[[ ! -d "$work/nodes" ]] || fail "a trial ran" "$work/nodes.log"

# An output directory in the way of a file: bad input, as `recfuse run` says.
touch "$work/a-file"
rc=0
"${mpirun[@]}" -n 2 "$recfuse_mpi" run "$work/pop.toml" -o "$work/a-file" --no-cache > "$work/outdir.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || fail "output directory is a file: exit $rc, expected 1" "$work/outdir.log"
grep -q "output directory $work/a-file" "$work/outdir.log" || fail "no output directory message" "$work/outdir.log"
# A worker's own error (its output path is under that file, so run_sweep
# throws there): a failed record, its error naming the rank once.
rc=0
"${mpirun[@]}" -n 1 "$recfuse_mpi" run "$work/pop.toml" -o "$work/worker-error" --no-cache \
  : -n 1 "$recfuse_mpi" run "$work/pop.toml" -o "$work/a-file/out" --no-cache > "$work/worker-error.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] || fail "a worker's own error: exit $rc, expected 2" "$work/worker-error.log"
python3 - "$work/worker-error" "$work/a-file/out" <<'PY' || fail "a worker's own error" "$work/worker-error.log"
import json, pathlib, re, sys
recs = [json.loads(f.read_text()) for f in pathlib.Path(sys.argv[1], "trials").glob("*.json")]
assert len(recs) == 1 and recs[0]["status"] == "failed", recs
error = recs[0]["error"]
assert re.fullmatch(r"rank 1: filesystem error: [^\n]*" + re.escape(sys.argv[2]) + r"[^\n]*", error), repr(error)
print("a worker's own error: named once")
PY
# recfuse-mpi installed without recfuse: this machine's fault, exit 3.
mkdir -p "$work/lonely/bin"
cp "$recfuse_mpi" "$work/lonely/bin/recfuse-mpi"
rc=0
"${mpirun[@]}" -n 2 "$work/lonely/bin/recfuse-mpi" run "$work/pop.toml" -o "$work/lonely/out" --no-cache \
  --plugin-path "$(dirname "$recfuse")/../lib/recfuse/plugins" > "$work/lonely.log" 2>&1 || rc=$?
[[ $rc -eq 3 ]] || fail "no recfuse beside recfuse-mpi: exit $rc, expected 3" "$work/lonely.log"
grep -q "internal error: .*recfuse: not found" "$work/lonely.log" || fail "no internal error message" "$work/lonely.log"

# --save-models, then --load-models, and --fit-cache, each spread over the ranks.
scenario "$work/models.toml" mpi-models 'plugin = "popularity"' 'plugin = "item_knn"'$'\n''grid = { neighbors = [10, 20] }' \
  'plugin = "baseline_only"'
run_ok() {  # run_ok OUT_NAME OPTIONS...: a 3-rank run that must exit 0
  local out="$1"
  shift
  "${mpirun[@]}" -n 3 "$recfuse_mpi" run "$work/models.toml" -o "$work/$out" --threads 1 --no-cache "$@" \
    > "$work/$out.log" 2>&1 || fail "$out: exit $?" "$work/$out.log"
}
run_ok saved --save-models
run_ok loaded --load-models "$work/saved/models"
run_ok cached1 --fit-cache "$work/fits"
run_ok cached2 --fit-cache "$work/fits"
python3 - "$work" <<'PY'
import json, pathlib, sys
def load(d):
    return {r["trial_id"]: r for r in (json.loads(f.read_text()) for f in pathlib.Path(sys.argv[1], d, "trials").glob("*.json"))}
saved = load("saved")
assert len(saved) == 4 and all(r["status"] == "ok" and "file" in r["saved_model"] for r in saved.values()), saved
for run, check in (("loaded", lambda r: "loaded_model" in r), ("cached1", lambda r: r["fit_cache"]["stored"]),
                   ("cached2", lambda r: r["fit_cache"]["read"] and not r["fit_cache"]["stored"])):
    recs = load(run)
    assert recs.keys() == saved.keys(), f"{run}: trials differ"
    for i, r in recs.items():
        assert r["status"] == "ok" and check(r), f"{run}: {r['algorithm']}: {r['status']} {r.get('error', '')} {r.get('fit_cache')}"
        assert r["per_user"] == saved[i]["per_user"], f"{run}: {r['algorithm']}: per-user metrics differ from the fit"
print("save, load and fit cache across ranks: ok")
PY
echo "mpi failures: ok"
