import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { productionClosure } from "./package-closure.js";
import { bundleProgram, keptAsPackage } from "./program-bundle.js";

/** The repository root: this file is packages/init/src/images/. */
const root = join(import.meta.dirname, "..", "..", "..", "..");

describe("bundleProgram", () => {
  const scratch = mkdtempSync(join(tmpdir(), "moby-bundle-spec-"));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("keeps as packages only those that load their own files by path", () => {
    const closure = productionClosure(join(root, "packages", "container-store"), root);
    const kept = closure.filter(keptAsPackage).map((p) => p.name).sort();
    assert.ok(kept.includes("better-sqlite3"), "a native addon");
    assert.ok(kept.includes("etcd3"), "a package loading its .proto files");
    for (const name of ["@moby-core/sdk", "@connectrpc/connect", "pino", "@bufbuild/protobuf"]) assert.ok(!kept.includes(name), name);
  });

  it("bundles a component into one file beside the packages it must keep, with what they depend on", async () => {
    const closure = productionClosure(join(root, "packages", "events"), root);
    const bundle = await bundleProgram({
      entry: join(root, "packages", "events", "bin", "moby-events.js"),
      imagePath: "/app/node_modules/@moby-core/events/bundle/moby-events.mjs",
      closure,
      root,
      appRoot: "/app",
      scratchDir: join(scratch, "events"),
    });
    assert.deepEqual(bundle.external, ["better-sqlite3"]);
    const paths = bundle.entries.map((e) => e.path);
    assert.ok(paths.includes("/app/node_modules/@moby-core/events/bundle/moby-events.mjs"));
    assert.ok(paths.includes("/app/node_modules/@moby-core/events/bundle/moby-events.mjs.map"));
    assert.ok(paths.includes("/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node"), "the kept package");
    assert.ok(paths.includes("/app/node_modules/bindings/bindings.js"), "and what it depends on");
    assert.ok(!paths.some((p) => p.startsWith("/app/node_modules/@moby-core/sdk/") || p.startsWith("/app/node_modules/pino/")), "bundled packages are not shipped");
    const code = readFileSync(join(scratch, "events", "moby-events.mjs"), "utf8");
    assert.match(code, /from "better-sqlite3"|import\("better-sqlite3"\)|require\("better-sqlite3"\)/, "the bundle imports the kept package");
    assert.match(code, /\/\/# sourceMappingURL=moby-events\.mjs\.map\s*$/);
  });

  it("runs as the modules did, its stack traces naming the files it was made of", async () => {
    const dir = join(scratch, "program");
    const entry = join(root, "packages", "init", "src", "images", "program-bundle.fixture.mjs");
    writeFileSync(
      entry,
      `import { serveComponent } from "@moby-core/sdk";\nconsole.log(typeof serveComponent);\nthrow new Error("from the fixture");\n`,
    );
    try {
      const bundle = await bundleProgram({ entry, imagePath: "/app/program.mjs", closure: productionClosure(join(root, "packages", "sdk"), root), root, appRoot: "/app", scratchDir: dir });
      assert.deepEqual(bundle.external, []);
    } finally {
      rmSync(entry, { force: true });
    }
    // Away from the repository's node_modules: the bundle needs none.
    const ran = spawnSync(process.execPath, ["--enable-source-maps", join(dir, "program.mjs")], { cwd: dir, encoding: "utf8" });
    assert.equal(ran.status, 1, ran.stderr);
    assert.equal(ran.stdout, "function\n");
    assert.match(ran.stderr, /Error: from the fixture\n\s+at .*program-bundle\.fixture\.mjs:3:7/, "the source map leads to the entry's own line");
  });

  it("bundles the worker a package starts from a module beside it, and places it where the bundle starts it", async () => {
    const dir = join(scratch, "worker");
    const entry = join(root, "packages", "init", "src", "images", "program-bundle.worker-fixture.mjs");
    // An empty tar (two zero blocks) unpacked by oci-image's pool, whose worker is layer-unpack-worker.js beside it.
    writeFileSync(
      entry,
      `import { mkdtempSync } from "node:fs";\nimport { tmpdir } from "node:os";\nimport { join } from "node:path";\nimport { LayerUnpackPool } from "@moby-core/oci-image";\n` +
        `const result = await new LayerUnpackPool(1).unpack([new Uint8Array(1024)], mkdtempSync(join(tmpdir(), "moby-bundle-worker-")), "empty");\nconsole.log(result.diffId);\n`,
    );
    try {
      const bundle = await bundleProgram({ entry, imagePath: "/app/bundle/program.mjs", closure: productionClosure(join(root, "packages", "oci-image"), root), root, appRoot: "/app", scratchDir: dir });
      const paths = bundle.entries.map((e) => e.path);
      assert.ok(paths.includes("/app/bundle/layer-unpack-worker.js"), "the worker beside the bundle, under the name its caller uses");
      assert.ok(paths.includes("/app/bundle/package.json"), "with a package.json saying it is ESM");
    } finally {
      rmSync(entry, { force: true });
    }
    const ran = spawnSync(process.execPath, [join(dir, "program.mjs")], { cwd: dir, encoding: "utf8" });
    assert.equal(ran.status, 0, ran.stderr);
    assert.match(ran.stdout, /^sha256:[0-9a-f]{64}\n$/, "the worker unpacked the layer");
  });
});
