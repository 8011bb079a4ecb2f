import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, utimesSync, writeFileSync, chmodSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { readImageLayout, unpackImage, writeImageLayout } from "./image-layout.js";
import { normalizeEntries } from "./reproducible-layer.js";
import type { LayerEntry } from "./reproducible-layer.js";

const dir = mkdtempSync(join(tmpdir(), "oci-image-spec-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const config = { entrypoint: ["/bin/app"], cmd: ["--serve"], env: ["PATH=/bin"], workingDir: "/srv", labels: { a: "b" } };

/** Two host files, one executable, as layer entries. */
function sourceFiles(): LayerEntry[] {
  const src = join(dir, "src");
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, "app"), "#!/bin/sh\necho app\n");
  chmodSync(join(src, "app"), 0o700);
  writeFileSync(join(src, "data.txt"), "data\n");
  return [
    { type: "file", path: "bin/app", source: join(src, "app"), executable: true, size: statSync(join(src, "app")).size },
    { type: "file", path: "srv/data.txt", source: join(src, "data.txt"), executable: false, size: statSync(join(src, "data.txt")).size },
    { type: "symlink", path: "srv/current", target: "data.txt" },
  ];
}

describe("reproducible layers", () => {
  it("sorts entries and lists every parent directory once", () => {
    const sorted = normalizeEntries([
      { type: "symlink", path: "b/c/link", target: "x" },
      { type: "directory", path: "a" },
      { type: "directory", path: "./b/" },
    ]);
    assert.deepEqual(sorted.map((e) => `${e.type}:${e.path}`), ["directory:a", "directory:b", "directory:b/c", "symlink:b/c/link"]);
  });

  it("refuses a path twice, a path out of the layer and a path under a file", () => {
    assert.throws(() => normalizeEntries([{ type: "symlink", path: "a", target: "x" }, { type: "symlink", path: "a", target: "y" }]), /"a" is listed twice/);
    assert.throws(() => normalizeEntries([{ type: "directory", path: "../etc" }]), /not a path inside the layer/);
    assert.throws(() => normalizeEntries([{ type: "symlink", path: "a", target: "x" }, { type: "directory", path: "a/b" }]), /under "a", which is not a directory/);
  });
});

describe("image layouts", () => {
  it("gives the same digest for the same files, whatever their times or the order they are listed in", async () => {
    const entries = sourceFiles();
    const first = await writeImageLayout(join(dir, "one"), "test/app:1", [entries], config);
    utimesSync(entries[0]!.type === "file" ? entries[0]!.source : "", new Date(), new Date(2000, 1, 1));
    const second = await writeImageLayout(join(dir, "two"), "test/app:1", [[...entries].reverse()], config);
    assert.equal(second.manifestDigest, first.manifestDigest);
    assert.deepEqual(second.layers, first.layers);
    const other = await writeImageLayout(join(dir, "three"), "test/app:1", [entries], { ...config, cmd: ["--other"] });
    assert.notEqual(other.manifestDigest, first.manifestDigest, "the config is part of the image");
  });

  it("reads back what it wrote and unpacks it with modes, links and the config", async () => {
    const written = await writeImageLayout(join(dir, "layout"), "test/app:1", [sourceFiles(), [{ type: "directory", path: "tmp" }]], config);
    const image = readImageLayout(join(dir, "layout"), "test/app:1");
    assert.equal(image.manifestDigest, written.manifestDigest);
    assert.deepEqual(image.config, config);
    assert.equal(image.layers.length, 2);
    assert.equal(readImageLayout(join(dir, "layout")).manifestDigest, written.manifestDigest, "the only image, unnamed");
    const rootfs = join(dir, "rootfs");
    mkdirSync(rootfs);
    await unpackImage(image, rootfs);
    assert.equal(readFileSync(join(rootfs, "srv/data.txt"), "utf8"), "data\n");
    assert.equal(statSync(join(rootfs, "bin/app")).mode & 0o777, 0o755);
    assert.equal(statSync(join(rootfs, "srv/data.txt")).mode & 0o777, 0o644);
    assert.equal(readlinkSync(join(rootfs, "srv/current")), "data.txt");
    assert.ok(statSync(join(rootfs, "tmp")).isDirectory());
  });

  it("names what is wrong with a layout: not one, an unknown name, a corrupt blob", async () => {
    assert.throws(() => readImageLayout(join(dir, "missing")), /is not an OCI image layout \(no oci-layout file\); build it first/);
    const layout = join(dir, "named");
    const written = await writeImageLayout(layout, "test/app:1", [sourceFiles()], config);
    assert.throws(() => readImageLayout(layout, "test/app:2"), /has no image named "test\/app:2" \(it has: test\/app:1\)/);
    writeFileSync(join(layout, "blobs", "sha256", written.manifestDigest.slice(7)), JSON.stringify({ schemaVersion: 2 }));
    assert.throws(() => readImageLayout(layout), /the image manifest .* has digest sha256:[0-9a-f]+, not sha256:[0-9a-f]+: the layout is corrupt/);
  });
});
