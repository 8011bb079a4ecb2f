// The release flow's versioning step on a scratch copy of the workspace
// manifests: one recorded change to one package versions every public package
// together (one fixed group), rewrites their exact pins of each other, writes
// a CHANGELOG.md per package, consumes the changeset, and leaves private
// packages (the example) at their version with their pins updated.
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { repoRoot, run } from "../support/contract-copy.js";

interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  workspaces?: string[];
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const read = (dir: string, path = "package.json") => JSON.parse(readFileSync(join(dir, path), "utf8")) as PackageJson;

describe("npm run version-packages (changesets)", () => {
  const scratch = mkdtempSync(join(tmpdir(), "moby-changesets-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("versions every public package together from one recorded change, with changelogs", () => {
    const workspaces = read(repoRoot).workspaces ?? [];
    for (const file of ["package.json", ".changeset/config.json", ...workspaces.map((w) => `${w}/package.json`)]) {
      mkdirSync(dirname(join(scratch, file)), { recursive: true });
      cpSync(join(repoRoot, file), join(scratch, file));
    }
    symlinkSync(join(repoRoot, "node_modules"), join(scratch, "node_modules"));
    const before = new Map(workspaces.map((w) => [w, read(scratch, `${w}/package.json`)]));
    const released = [...before.values()].filter((p) => !p.private);
    const version = released[0]!.version;
    assert.ok(released.every((p) => p.version === version), "the public packages start at one version");
    const [major, minor] = version.split(".").map(Number);
    const next = `${major}.${minor! + 1}.0`;

    writeFileSync(
      join(scratch, ".changeset/new-event-payload.md"),
      '---\n"@moby-core/events-api": minor\n---\n\nA new event payload for image pulls.\n',
    );
    const versioned = run(join(repoRoot, "node_modules/.bin/changeset"), ["version"], scratch);
    assert.equal(versioned.status, 0, versioned.stdout + versioned.stderr);

    for (const [dir, old] of before) {
      const now = read(scratch, `${dir}/package.json`);
      const pins = { ...now.dependencies, ...now.devDependencies };
      for (const [dep, range] of Object.entries(pins)) {
        if (dep.startsWith("@moby-core/")) assert.equal(range, next, `${old.name} pins ${dep} at exactly ${next}`);
      }
      if (old.private) {
        assert.equal(now.version, old.version, `${old.name} (private) keeps its version`);
        continue;
      }
      assert.equal(now.version, next, `${old.name} moves to ${next} with the others`);
      assert.ok(existsSync(join(scratch, dir, "CHANGELOG.md")), `${old.name} has a CHANGELOG.md`);
    }
    const changelog = readFileSync(join(scratch, "packages/events-api/CHANGELOG.md"), "utf8");
    assert.match(changelog, new RegExp(`## ${next.replaceAll(".", "\\.")}\\n\\n### Minor Changes\\n\\n- A new event payload for image pulls\\.`));
    assert.deepEqual(
      readdirSync(join(scratch, ".changeset")).filter((f) => f.endsWith(".md")),
      [],
      "the recorded change is consumed",
    );
  });
});
