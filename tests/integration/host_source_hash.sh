#!/usr/bin/env bash
# cmake/HostSourceHash.cmake, the "recfuse" part of every record's provenance
# (resume reuses only records of the same build): the hash follows the code
# that writes records (core, tools/cli) and the build files, ignores
# scenarios, documentation, reports and plugins and editors' hidden files
# (dangling links among them), and the header is rewritten only when the
# hash changes.
#   host_source_hash.sh <cmake> <script> <scratch dir>
set -euo pipefail
cmake_bin=$1 script=$2 work=$3
rm -rf "$work"
mkdir -p "$work/src/core/src" "$work/src/reports" "$work/src/tools/cli" "$work/src/cmake" \
         "$work/src/scenarios" "$work/src/plugins/mf"
cd "$work/src"
echo 'int f() { return 1; }' > core/src/a.cpp
echo '// report' > reports/r.hpp
echo '// cli' > tools/cli/main.cpp
echo 'project(x)' > CMakeLists.txt
echo 'name = "s"' > scenarios/s.toml
echo '# readme' > README.md
echo 'int g() { return 2; }' > plugins/mf/p.cpp
hash() { "$cmake_bin" -DSOURCE_DIR="$work/src" -DOUTPUT="$work/out.hpp" -P "$script"
         sed -n 's/.*kHostSourceHash = "\([0-9a-f]*\)".*/\1/p' "$work/out.hpp"; }
fail() { echo "host_source_hash: $*"; exit 1; }

h0=$(hash)
[[ ${#h0} == 16 ]] || fail "expected 16 hex digits, got '$h0'"
touch -d '2000-01-01' "$work/out.hpp"
[[ $(hash) == "$h0" ]] || fail "the hash moved without a change"
[[ $(stat -c %Y "$work/out.hpp") == $(date -d '2000-01-01' +%s) ]] || fail "an unchanged hash rewrote the header"

echo 'name = "t"' > scenarios/s.toml
echo '# readme, edited' > README.md
echo 'int g() { return 3; }' > plugins/mf/p.cpp
echo '// report, edited' > reports/r.hpp
ln -s /nonexistent core/src/.#a.cpp
[[ $(hash) == "$h0" ]] || fail "scenarios, documentation, reports, plugins or a hidden file changed the host hash"

for f in core/src/a.cpp tools/cli/main.cpp CMakeLists.txt; do
  cp "$f" "$work/saved"
  echo '// edit' >> "$f"
  [[ $(hash) != "$h0" ]] || fail "an edit of $f left the host hash unchanged"
  cp "$work/saved" "$f"
  [[ $(hash) == "$h0" ]] || fail "undoing the edit of $f did not restore the hash"
done
echo 'int h() { return 4; }' > core/src/new.cpp
[[ $(hash) != "$h0" ]] || fail "a new host source file left the hash unchanged"
echo "host_source_hash: ok ($h0)"
