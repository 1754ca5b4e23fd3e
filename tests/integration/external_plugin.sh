#!/usr/bin/env bash
# Installs recfuse into a scratch prefix, builds tests/external_plugin against
# the installed SDK with find_package(recfuse), and runs it with the
# installed binary on a small synthetic scenario.
set -euo pipefail
build="$1"
src="$2"
work="$build/external-plugin-test"
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
cmake -S "$src/tests/external_plugin" -B "$work/ext" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" > "$work/configure.log"
cmake --build "$work/ext" > "$work/build.log"
test -f "$work/ext/plugins/librecfuse_example.so"

recfuse="$work/prefix/bin/recfuse"
"$recfuse" plugins --plugin-path "$work/ext/plugins" > "$work/plugins.txt"
grep -q "example_recent_popularity" "$work/plugins.txt"
grep -q "half_life_days" "$work/plugins.txt"
# The installed binary finds the installed in-tree plugins next to itself.
grep -q "item_knn" "$work/plugins.txt"

"$recfuse" run "$src/tests/fixtures/scenarios/external_plugin.toml" \
  --plugin-path "$work/ext/plugins" --output "$work/out" --no-cache --quiet
grep -q '"status": "ok"' "$work/out/report.json"
grep -q "\"plugin\": \"example_recent_popularity\"" "$work/out/report.json"
grep -q "| recent |" "$work/out/report.md"
echo "external plugin: ok"
