#!/usr/bin/env bash
# Fails when a gen/ directory is not exactly what `buf generate` makes from
# its protos today: generated code is never edited by hand, and never stale.
# Checks the public contract (gen/) and each example with its own buf.gen.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export PATH="$root/node_modules/.bin:$PATH"
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
status=0
for module in . examples/*/ bench/; do
  module=${module%/}
  [ -f "$module/buf.gen.yaml" ] || continue
  out="$fresh/$module"
  mkdir -p "$out"
  (cd "$module" && buf generate -o "$out")
  if ! diff -r "$module/gen" "$out/gen"; then
    echo "$module/gen does not match its protos: run 'npm run generate' and commit the result." >&2
    status=1
  fi
done
[ "$status" -eq 0 ] && echo "every gen/ matches its protos."
exit "$status"
