// The README holds: its manifest example is a valid manifest whose components
// are exactly those of moby.yaml, so the documented fields cannot drift from
// the reference assembly.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseManifest } from "@moby-core/init";
import type { Manifest } from "@moby-core/init";
import { repoRoot } from "./support/contract-copy.js";

const readme = readFileSync(join(repoRoot, "README.md"), "utf8");

/** The fenced blocks under a heading of the README, with their info strings. */
export function blocksUnder(heading: string, text = readme): { info: string; body: string }[] {
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `the README has a section ${JSON.stringify(heading)}`);
  const next = text.slice(start + heading.length + 2).search(/\n#{1,2} /);
  const section = next < 0 ? text.slice(start) : text.slice(start, start + heading.length + 2 + next);
  return [...section.matchAll(/```([^\n]*)\n([\s\S]*?)```/g)].map((m) => ({ info: m[1]!, body: m[2]! }));
}

/** A manifest parsed as if it were a file at the repository root; fails listing its problems. */
function parsed(text: string, name: string): Manifest {
  const result = parseManifest(text, join(repoRoot, name), { runDir: "/run/moby-readme-check" });
  if ("problems" in result) assert.fail(`${name} has mistakes: ${JSON.stringify(result.problems)}`);
  return result.manifest;
}

describe("README", () => {
  it("shows a manifest that init accepts, each component as moby.yaml declares it", () => {
    const [example] = blocksUnder("## The manifest").filter((b) => b.info === "yaml");
    assert.ok(example, "a yaml block under 'The manifest'");
    const documented = parsed(example.body, "README-example.yaml");
    const reference = parsed(readFileSync(join(repoRoot, "moby.yaml"), "utf8"), "moby.yaml");
    assert.ok(documented.components.length > 0);
    for (const component of documented.components) {
      const real = reference.components.find((c) => c.name === component.name);
      assert.ok(real, `moby.yaml declares ${component.name}`);
      assert.deepEqual(component, real, `${component.name} is documented as moby.yaml declares it`);
    }
  });
});
