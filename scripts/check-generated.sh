#!/usr/bin/env bash
# Fails when gen/ is not exactly what `buf generate` makes from proto/ today:
# generated code is never edited by hand, and never left stale.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
buf generate -o "$fresh"
if ! diff -r gen "$fresh/gen"; then
  echo "gen/ does not match proto/: run 'npm run generate' and commit the result." >&2
  exit 1
fi
echo "gen/ matches proto/."
