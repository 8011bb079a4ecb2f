// Every API package, packed with `npm pack` as it would be published,
// installs alone in an empty project outside this repository, type-checks
// and runs there (test/fixtures/outside-project/check.ts).
import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot, run } from "./support/contract-copy.js";

interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  workspaces?: string[];
  devDependencies: Record<string, string>;
}

const root = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as PackageJson;
const apiPackages = (root.workspaces ?? []).filter((w) => w.endsWith("-api"));

/** What `npm pack --json` reports for one tarball. */
interface PackReport {
  name: string;
  filename: string;
  files: { path: string }[];
}

describe("API packages packed and installed outside the repository", () => {
  const scratch = mkdtempSync(join(tmpdir(), "moby-outside-"));
  const tarballs = join(scratch, "tarballs");
  const project = join(scratch, "project");
  let reports: PackReport[] = [];

  before(() => {
    mkdirSync(tarballs);
    const args = ["pack", "--json", "--pack-destination", tarballs, ...apiPackages.flatMap((w) => ["--workspace", w])];
    const packed = run("npm", args, repoRoot);
    assert.equal(packed.status, 0, packed.stderr);
    reports = JSON.parse(packed.stdout) as PackReport[];
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("packs each API package with its README, its compiled code and types only", () => {
    assert.equal(reports.length, apiPackages.length);
    for (const report of reports) {
      const paths = report.files.map((f) => f.path);
      assert.ok(paths.includes("README.md"), `${report.name} has a README`);
      assert.ok(paths.includes("package.json"), `${report.name} has package.json`);
      assert.ok(paths.some((p) => p.endsWith("/index.js")), `${report.name} has an index`);
      assert.ok(paths.some((p) => p.endsWith("/index.d.ts")), `${report.name} has types`);
      const stray = paths.filter((p) => !["README.md", "package.json"].includes(p) && !/^dist\/.*\.(js|d\.ts)$/.test(p));
      assert.deepEqual(stray, [], `${report.name} ships only dist/*.js and *.d.ts`);
    }
  });

  it("installs, type-checks and runs in an empty project", () => {
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "outside", private: true, type: "module" }));
    for (const file of ["check.ts", "tsconfig.json"]) {
      cpSync(join(repoRoot, "test/fixtures/outside-project", file), join(project, file));
    }
    const install = run(
      "npm",
      [
        "install",
        "--no-audit",
        "--no-fund",
        "--prefer-offline",
        ...readdirSync(tarballs).map((t) => join(tarballs, t)),
        `@bufbuild/protobuf@${root.devDependencies["@bufbuild/protobuf"]}`,
        `typescript@${root.devDependencies["typescript"]}`,
      ],
      project,
    );
    assert.equal(install.status, 0, install.stdout + install.stderr);

    const typecheck = run(join(project, "node_modules/.bin/tsc"), ["-p", "."], project);
    assert.equal(typecheck.status, 0, typecheck.stdout + typecheck.stderr);

    const program = run("node", [join(project, "out/check.js")], project);
    assert.equal(program.status, 0, program.stdout + program.stderr);
    assert.match(program.stdout, /all API packages import, type-check and run/);
  });

  it("resolves a dependency between API packages to the other package, not a copy", () => {
    const registry = JSON.parse(
      readFileSync(join(project, "node_modules/@moby-core/registry-api/package.json"), "utf8"),
    ) as PackageJson;
    assert.ok(registry.dependencies?.["@moby-core/component-api"], "registry-api depends on component-api");
    const shipped = readdirSync(join(project, "node_modules/@moby-core/registry-api/dist/moby"));
    assert.deepEqual(shipped, ["registry"], "registry-api ships no copy of the component API");
  });
});
