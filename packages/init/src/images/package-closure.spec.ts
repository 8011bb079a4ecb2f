import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { packageEntries, productionClosure } from "./package-closure.js";

/** The repository root: this file is packages/init/src/images/. */
const root = join(import.meta.dirname, "..", "..", "..", "..");

describe("productionClosure", () => {
  const closure = productionClosure(join(root, "packages", "events"), root);
  const byName = new Map(closure.map((p) => [p.name, p]));

  it("takes the package, its workspace dependencies and their third-party ones, where Node finds them", () => {
    assert.equal(closure[0]!.name, "@moby-core/events");
    assert.equal(closure[0]!.imageDir, "/app/node_modules/@moby-core/events");
    assert.equal(byName.get("@moby-core/sdk")?.imageDir, "/app/node_modules/@moby-core/sdk");
    for (const name of ["@moby-core/events-api", "@connectrpc/connect", "better-sqlite3", "bindings", "pino"]) assert.ok(byName.has(name), name);
    assert.ok(!byName.has("typescript") && !byName.has("tsx"), "no development dependency");
  });

  it("takes only what runs: a native addon's .node without its sources, no declarations or maps", () => {
    const sqlite = packageEntries(byName.get("better-sqlite3")!).map((e) => e.path);
    assert.ok(sqlite.includes("/app/node_modules/better-sqlite3/build/Release/better_sqlite3.node"));
    assert.ok(sqlite.includes("/app/node_modules/better-sqlite3/lib/index.js"));
    assert.ok(!sqlite.some((p) => p.includes("/deps/") || p.includes("/src/") || p.includes("/obj")), "no sources or objects");
    const events = packageEntries(closure[0]!).map((e) => e.path);
    assert.ok(events.includes("/app/node_modules/@moby-core/events/bin/moby-events.js"));
    assert.ok(events.includes("/app/node_modules/@moby-core/events/dist/main.js"));
    assert.ok(!events.some((p) => /\.(d\.ts|map|tsbuildinfo)$/.test(p) || p.includes("/src/")), "no declarations, maps or sources");
    const api = packageEntries(byName.get("@moby-core/events-api")!).map((e) => e.path);
    assert.ok(api.some((p) => p.endsWith("/dist/moby/events/v1/index.js")), "an API package's generated code");
    assert.ok(!api.some((p) => /\.(proto|binpb)$/.test(p)), "not its contract sources, which only npm pack stages");
    const store = productionClosure(join(root, "packages", "container-store"), root).find((p) => p.name === "etcd3")!;
    assert.ok(packageEntries(store).some((e) => e.path === "/app/node_modules/etcd3/proto/rpc.proto"), "a third-party package's .proto it loads at run time");
  });

  it("names a dependency installed outside the root it was given", () => {
    assert.throws(() => productionClosure(join(root, "packages", "events"), join(root, "packages", "events")), /^Error: \S+ is installed at \S+node_modules\S+, outside \S+packages\/events and the packages taken, so it has no place in the image$/);
  });
});
