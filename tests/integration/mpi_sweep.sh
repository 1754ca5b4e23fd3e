#!/usr/bin/env bash
# recfuse-mpi against recfuse run: the same small synthetic scenario through
# `mpirun -n 3 recfuse-mpi run` (rank 0 coordinates, two workers) and through
# plain `recfuse run` must give the same trials, all ok, with identical
# headline metrics; a second mpirun over the same directory must resume every
# trial without rewriting a record; -n 1 runs the trials on rank 0; a bad
# scenario exits 1 on every rank instead of hanging; a worker that loads
# another build of a plugin has its records refused, ok or failed, and they
# rerun; a worker rank killed mid-run takes its trial process with it;
# `mpirun -n 2 recfuse sweep` is the same job as recfuse-mpi run.
#
#   mpi_sweep.sh MPIEXEC RECFUSE_MPI RECFUSE WORK_DIR TEST_GOOD_PLUGIN
set -euo pipefail
mpiexec="$1"
recfuse_mpi="$2"
recfuse="$3"
work="$4"
test_good="$5"
rm -rf "$work"
mkdir -p "$work"
# Root in containers and more ranks than cores on small CI machines.
mpirun=("$mpiexec" --allow-run-as-root --oversubscribe)
export OMPI_MCA_rmaps_base_oversubscribe=1

cat > "$work/scenario.toml" <<'TOML'
name = "mpi-sweep"
seeds = [1, 2]

[dataset]
format = "synthetic"
synthetic = { users = 300, items = 200, interactions_per_user = 20.0, seed = 7 }

[evaluation]
cutoffs = [10]

[[algorithms]]
plugin = "random"

[[algorithms]]
plugin = "popularity"

[[algorithms]]
name = "item_knn"
plugin = "item_knn"
params = { neighbors = 20 }

[[algorithms]]
plugin = "baseline_only"
TOML

"${mpirun[@]}" -n 3 "$recfuse_mpi" run "$work/scenario.toml" -o "$work/mpi" --threads 1 \
  --no-cache > "$work/mpi.log" 2>&1 || { cat "$work/mpi.log"; exit 1; }
"$recfuse" run "$work/scenario.toml" -o "$work/plain" --threads 1 --no-cache \
  > "$work/plain.log" 2>&1 || { cat "$work/plain.log"; exit 1; }
# The workers ran the trials, both of them (the queue hands one to each first).
for r in 1 2; do
  grep -q "(ran on rank $r)" "$work/mpi.log" || { echo "rank $r ran no trial"; cat "$work/mpi.log"; exit 1; }
done
! grep -q "(ran on rank 0)" "$work/mpi.log" || { echo "rank 0 ran a trial"; exit 1; }
test -f "$work/mpi/report.json"
test -f "$work/mpi/report.html"
test -f "$work/mpi/report.md"
test -f "$work/mpi/report.csv"

compare() {  # compare DIR_A DIR_B: same trials, all ok, same headline metric
  python3 - "$1" "$2" <<'PY'
import json, pathlib, sys
def load(d):
    recs = {}
    for f in sorted(pathlib.Path(d, "trials").glob("*.json")):
        r = json.loads(f.read_text())
        recs[r["trial_id"]] = r
    return recs, json.loads(pathlib.Path(d, "report.json").read_text())
(a, ra), (b, rb) = load(sys.argv[1]), load(sys.argv[2])
assert len(a) == 8, f"{sys.argv[1]}: {len(a)} records, expected 8"
assert a.keys() == b.keys(), f"trial ids differ: {sorted(a)} vs {sorted(b)}"
for d, recs in ((sys.argv[1], a), (sys.argv[2], b)):
    bad = [(i, r["status"], r.get("error", "")) for i, r in recs.items() if r["status"] != "ok"]
    assert not bad, f"{d}: trials not ok: {bad}"
h = ra["headline_metric"]
assert h and h == rb["headline_metric"], f"headline {h!r} vs {rb['headline_metric']!r}"
assert len(ra["trials"]) == 8, f"report.json lists {len(ra['trials'])} trials"
for i in a:
    ma, mb = a[i]["metrics"][h]["mean"], b[i]["metrics"][h]["mean"]
    assert ma == mb, f"trial {i} ({a[i]['algorithm']} seed {a[i]['seed']}): {h} {ma} vs {mb}"
print(f"{len(a)} trials ok, {h} identical")
PY
}
compare "$work/mpi" "$work/plain"

# DESIGN.md's spelling, `mpirun -n N recfuse sweep`: every rank becomes
# recfuse-mpi run with the same arguments; the same records again.
"${mpirun[@]}" -n 2 "$recfuse" sweep "$work/scenario.toml" -o "$work/sweep" --threads 1 \
  --no-cache > "$work/sweep.log" 2>&1 || { cat "$work/sweep.log"; exit 1; }
grep -q "(ran on rank 1)" "$work/sweep.log" || { echo "recfuse sweep: rank 1 ran no trial"; cat "$work/sweep.log"; exit 1; }
compare "$work/sweep" "$work/plain"
"$recfuse" sweep --help > "$work/sweep-help.log" 2>&1 || { cat "$work/sweep-help.log"; exit 1; }
grep -q "recfuse sweep \[SCENARIO\]" "$work/sweep-help.log" || { cat "$work/sweep-help.log"; exit 1; }

mtimes() { python3 -c 'import os,sys; d=sys.argv[1]; print(sorted((f, os.stat(os.path.join(d,f)).st_mtime_ns) for f in os.listdir(d)))' "$1/trials"; }
before="$(mtimes "$work/mpi")"
"${mpirun[@]}" -n 3 "$recfuse_mpi" run "$work/scenario.toml" -o "$work/mpi" --threads 1 \
  --no-cache > "$work/resume.log" 2>&1 || { cat "$work/resume.log"; exit 1; }
grep -q "8 trials (0 failed, 8 resumed)" "$work/resume.log" || { cat "$work/resume.log"; exit 1; }
[[ "$before" == "$(mtimes "$work/mpi")" ]] || { echo "resume rewrote records"; exit 1; }

# -n 1: rank 0 alone runs its trials (here shard 0/4: 2 of the 8).
"${mpirun[@]}" -n 1 "$recfuse_mpi" run "$work/scenario.toml" -o "$work/single" --threads 1 \
  --no-cache --shard 0/4 > "$work/single.log" 2>&1 || { cat "$work/single.log"; exit 1; }
grep -q "2 trials (0 failed, 0 resumed)" "$work/single.log" || { cat "$work/single.log"; exit 1; }

# A bad scenario: exit 1 from every rank with the usual file:line:column error.
printf 'name = "bad"\n[[algorithms]]\nplugin = "no_such_plugin"\n' > "$work/bad.toml"
rc=0
timeout 120 "${mpirun[@]}" -n 3 "$recfuse_mpi" run "$work/bad.toml" -o "$work/bad" \
  > "$work/bad.log" 2>&1 || rc=$?
[[ $rc -eq 1 ]] || { echo "bad scenario: exit $rc, expected 1"; cat "$work/bad.log"; exit 1; }
grep -q "bad.toml:3" "$work/bad.log" || { cat "$work/bad.log"; exit 1; }
# Another build on one node: rank 2 loads a copy of the test plugin whose
# file differs by one byte. Rank 0 refuses what rank 2 ran, as failed trials
# naming both builds; a rerun with one build runs them again (not resumed).
mkdir -p "$work/A" "$work/B"
cp "$test_good" "$work/A/"
cp "$test_good" "$work/B/"
printf '\0' >> "$work/B/$(basename "$test_good")"
printf 'name = "mpi-provenance"\nseeds = [1, 2, 3, 4]\n[dataset]\nformat = "synthetic"\n[evaluation]\ncutoffs = [10]\n[[algorithms]]\nplugin = "test_good"\n' \
  > "$work/prov.toml"
rc=0
"${mpirun[@]}" -n 2 "$recfuse_mpi" run "$work/prov.toml" -o "$work/prov" --threads 1 --no-cache \
  --plugin-path "$work/A" : -n 1 "$recfuse_mpi" run "$work/prov.toml" -o "$work/prov" --threads 1 \
  --no-cache --plugin-path "$work/B" > "$work/prov.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] || { echo "two builds: exit $rc, expected 2"; cat "$work/prov.log"; exit 1; }
grep -q "ran another build" "$work/prov/report.json" || { echo "no refusal recorded"; cat "$work/prov.log"; exit 1; }
"${mpirun[@]}" -n 3 "$recfuse_mpi" run "$work/prov.toml" -o "$work/prov" --threads 1 --no-cache \
  --plugin-path "$work/A" > "$work/prov2.log" 2>&1 || { cat "$work/prov2.log"; exit 1; }
grep -q "4 trials (0 failed" "$work/prov2.log" || { cat "$work/prov2.log"; exit 1; }

# The same for a trial that fails on the node with the other build: its
# failure is that build's, not this one's, so a rerun with one build runs it
# again (as `recfuse run` does); the failures of this build are resumed.
mkdir -p "$work/TA" "$work/TB"
test_throws="$(dirname "$test_good")/librecfuse_test_throws.so"
cp "$test_throws" "$work/TA/"
cp "$test_throws" "$work/TB/"
printf '\0' >> "$work/TB/$(basename "$test_throws")"
sed 's/test_good/test_throws/' "$work/prov.toml" > "$work/throws.toml"
rc=0
"${mpirun[@]}" -n 2 "$recfuse_mpi" run "$work/throws.toml" -o "$work/throws" --threads 1 --no-cache \
  --plugin-path "$work/TA" : -n 1 "$recfuse_mpi" run "$work/throws.toml" -o "$work/throws" --threads 1 \
  --no-cache --plugin-path "$work/TB" > "$work/throws.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] || { echo "failing trials: exit $rc, expected 2"; cat "$work/throws.log"; exit 1; }
on_a=$(grep -c "(ran on rank 1)" "$work/throws.log" || true)
on_b=$(grep -c "(ran on rank 2)" "$work/throws.log" || true)
[[ $on_b -ge 1 ]] || { echo "rank 2 ran no trial"; cat "$work/throws.log"; exit 1; }
rc=0
"${mpirun[@]}" -n 2 "$recfuse_mpi" run "$work/throws.toml" -o "$work/throws" --threads 1 --no-cache \
  --plugin-path "$work/TA" > "$work/throws2.log" 2>&1 || rc=$?
[[ $rc -eq 2 ]] || { echo "failing trials, rerun: exit $rc, expected 2"; cat "$work/throws2.log"; exit 1; }
grep -q "4 trials (4 failed, $on_a resumed)" "$work/throws2.log" ||
  { echo "expected the $on_a failures of rank 1's build resumed, the $on_b of rank 2's rerun"; cat "$work/throws2.log"; exit 1; }

# A worker rank that dies mid-run: mpirun ends the job, saying which rank
# died (under `timeout`: a hang fails the test, exit 124, instead of CI), no
# trial process outlives it (each follows its rank), every record on disk is
# whole, and a rerun runs each trial exactly once.
plugins="$(dirname "$test_good")"
printf 'name = "mpi-kill"\nseeds = [1, 2, 3]\n[dataset]\nformat = "synthetic"\n[evaluation]\ncutoffs = [10]\n[[algorithms]]\nplugin = "test_slow"\nparams = { seconds = 0.0, wait_for = "%s" }\n' \
  "$work/go" > "$work/kill.toml"
timeout 120 "${mpirun[@]}" -n 3 "$recfuse_mpi" run "$work/kill.toml" -o "$work/kill" --threads 1 --no-cache \
  --plugin-path "$plugins" > "$work/kill.log" 2>&1 &
job=$!
trials_of() { pgrep -f -- "trial .*--record $work/kill/" || true; }
for _ in $(seq 600); do [[ $(trials_of | wc -l) -ge 2 ]] && break; sleep 0.1; done
[[ $(trials_of | wc -l) -ge 2 ]] || { echo "no two trials started"; kill "$job"; cat "$work/kill.log"; exit 1; }
victim=$(ps -o ppid= -p "$(trials_of | head -n 1)" | tr -d ' ')
kill -KILL "$victim"
rc=0
wait "$job" || rc=$?
[[ $rc -ne 0 && $rc -ne 124 ]] || { echo "mpirun exited $rc after a rank was killed"; cat "$work/kill.log"; exit 1; }
grep -q "exited on signal 9" "$work/kill.log" || { echo "no word of the killed rank"; cat "$work/kill.log"; exit 1; }
for _ in $(seq 200); do [[ -z "$(trials_of)" ]] && break; sleep 0.1; done
left="$(trials_of)"
if [[ -n "$left" ]]; then
  echo "trial processes outlived their killed job: $left"
  kill -KILL $left
  exit 1
fi
python3 - "$work/kill/trials" <<'PY'
import json, pathlib, sys
for f in pathlib.Path(sys.argv[1]).glob("*.json"):
    json.loads(f.read_text())  # whole, or not there at all
PY
touch "$work/go"
"${mpirun[@]}" -n 3 "$recfuse_mpi" run "$work/kill.toml" -o "$work/kill" --threads 1 --no-cache \
  --plugin-path "$plugins" > "$work/kill2.log" 2>&1 || { cat "$work/kill2.log"; exit 1; }
grep -q "3 trials (0 failed, 0 resumed)" "$work/kill2.log" || { cat "$work/kill2.log"; exit 1; }
[[ $(grep -c "(ran on rank" "$work/kill2.log") -eq 3 ]] || { cat "$work/kill2.log"; exit 1; }
echo "mpi sweep: ok"
