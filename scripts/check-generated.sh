#!/usr/bin/env bash
# Fails when generated output is not exactly what `buf generate` makes from
# its protos today: generated code and docs are never edited by hand, and
# never stale. Checks the public contract's gen/ (buf.gen.yaml), its API
# reference docs/api/ (buf.gen.docs.yaml), and each example's and the
# bench's gen/ with their own buf.gen.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$root/node_modules/.bin:$PATH"
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
status=0

# check MODULE TEMPLATE OUT: generates MODULE with TEMPLATE into a scratch
# directory and compares its OUT directory with the committed one.
check() {
  local module=$1 template=$2 dir=$3
  local out="$fresh/$module/$template"
  mkdir -p "$out"
  (cd "$module" && buf generate --template "$template" -o "$out")
  if ! diff -r "$module/$dir" "$out/$dir"; then
    echo "$module/$dir does not match its protos: run 'npm run generate' and commit the result." >&2
    status=1
  fi
}

for module in . examples/*/ bench/; do
  module=${module%/}
  [ -f "$module/buf.gen.yaml" ] || continue
  check "$module" buf.gen.yaml gen
done
check . buf.gen.docs.yaml docs/api
[ "$status" -eq 0 ] && echo "every gen/ and docs/api match their protos."
exit "$status"
