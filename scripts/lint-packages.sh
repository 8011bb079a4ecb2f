#!/usr/bin/env bash
# Lints every public workspace package as it would be published: packs it
# (its prepack builds it, so this runs after no build step), then checks the
# tarball with publint (files and exports that are missing or wrong) and,
# where the package has entry points, @arethetypeswrong/cli (types that do not
# resolve for ESM users). A package that would publish without its compiled
# code fails here, before any publish.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
packs=$(mktemp -d)
trap 'rm -rf "$packs"' EXIT
status=0
for dir in $(node -e '
  const root = require("./package.json");
  for (const w of root.workspaces) {
    const p = require(`./${w}/package.json`);
    if (!p.private) console.log(w);
  }'); do
  name=$(node -p "require('./$dir/package.json').name")
  printf '\n--- %s (%s)\n' "$name" "$dir"
  if ! tarball=$(cd "$dir" && npm pack --silent --pack-destination "$packs" 2>"$packs/pack.log" | tail -1); then
    cat "$packs/pack.log" >&2
    echo "$name: npm pack failed" >&2
    status=1
    continue
  fi
  publint run "$packs/$tarball" --strict || status=1
  if node -e "process.exit(require('./$dir/package.json').exports ? 0 : 1)"; then
    attw "$packs/$tarball" --profile esm-only --format table-flipped --no-emoji --no-color || status=1
  fi
done
[ "$status" -eq 0 ] && printf '\nevery public package packs with its compiled code and passes publint and attw.\n'
exit "$status"
