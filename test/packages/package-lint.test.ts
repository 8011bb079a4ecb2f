// The lint step's package check (scripts/lint-packages.sh) catches a package
// that would publish without its compiled code, before anything is published:
// here a scratch workspace whose one package has a prepack that builds nothing.
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { repoRoot, run } from "../support/contract-copy.js";

describe("npm run lint:packages", () => {
  const scratch = mkdtempSync(join(tmpdir(), "moby-package-lint-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("fails naming the missing compiled file when a package's prepack does not build it", () => {
    mkdirSync(join(scratch, "packages/component-api"), { recursive: true });
    mkdirSync(join(scratch, "scripts"));
    cpSync(join(repoRoot, "scripts/lint-packages.sh"), join(scratch, "scripts/lint-packages.sh"));
    symlinkSync(join(repoRoot, "node_modules"), join(scratch, "node_modules"));
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "scratch", private: true, workspaces: ["packages/component-api"] }));
    const manifest = JSON.parse(readFileSync(join(repoRoot, "packages/component-api/package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    manifest.scripts = { prepack: "true" };
    writeFileSync(join(scratch, "packages/component-api/package.json"), JSON.stringify(manifest, null, 2));
    cpSync(join(repoRoot, "packages/component-api/README.md"), join(scratch, "packages/component-api/README.md"));

    const lint = run("bash", ["scripts/lint-packages.sh"], scratch);
    assert.notEqual(lint.status, 0, `lint must fail:\n${lint.stdout}\n${lint.stderr}`);
    assert.match(lint.stdout + lint.stderr, /dist\/moby\/component\/v1\/index\.(js|d\.ts)/);
  });

  it("passes the same package once its compiled code is there", () => {
    cpSync(join(repoRoot, "packages/component-api/dist"), join(scratch, "packages/component-api/dist"), { recursive: true });
    const lint = run("bash", ["scripts/lint-packages.sh"], scratch);
    assert.equal(lint.status, 0, `${lint.stdout}\n${lint.stderr}`);
    assert.match(lint.stdout, /every public package packs with its compiled code/);
  });
});
