import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { extract, pack } from "tar-stream";
import { applyChange, describeLayer, imageConfig, layoutArchive, parsePlatform } from "./filesystem-image.js";
import type { RunConfig } from "./filesystem-image.js";

const dir = mkdtempSync(join(tmpdir(), "moby-fsimage-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A tar holding the files given, as bytes. */
async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const archive = pack();
  for (const [name, content] of Object.entries(files)) archive.entry({ name }, content);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The files of a tar stream, by name. */
async function filesOf(stream: AsyncIterable<Buffer>): Promise<Map<string, Buffer>> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  const files = new Map<string, Buffer>();
  const reader = extract();
  reader.end(Buffer.concat(chunks));
  for await (const entry of reader) {
    const parts: Buffer[] = [];
    for await (const part of entry) parts.push(part as Buffer);
    files.set(entry.header.name, Buffer.concat(parts));
  }
  return files;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

describe("docker import's --change instructions", () => {
  it("apply CMD and ENTRYPOINT in exec and shell form, ENV, LABEL, EXPOSE, VOLUME, USER and WORKDIR", () => {
    const config: RunConfig = {};
    applyChange(config, 'CMD ["sh", "-c", "echo hi"]');
    applyChange(config, "ENTRYPOINT /bin/run --fast");
    applyChange(config, 'ENV A=1 B="two words"');
    applyChange(config, "ENV A 3");
    applyChange(config, "label team=core");
    applyChange(config, "EXPOSE 80 53/udp");
    applyChange(config, 'VOLUME ["/data"]');
    applyChange(config, "USER 1000:1000");
    applyChange(config, "WORKDIR /srv");
    assert.deepEqual(config, {
      Cmd: ["sh", "-c", "echo hi"],
      Entrypoint: ["/bin/sh", "-c", "/bin/run --fast"],
      Env: ["A=3", "B=two words"],
      Labels: { team: "core" },
      ExposedPorts: { "80/tcp": {}, "53/udp": {} },
      Volumes: { "/data": {} },
      User: "1000:1000",
      WorkingDir: "/srv",
    });
  });

  it("refuse what they cannot apply, naming the instruction", () => {
    assert.throws(() => applyChange({}, "RUN make"), /--change "RUN make": RUN is not an instruction import can apply \(CMD, ENTRYPOINT/);
    assert.throws(() => applyChange({}, "CMD"), /--change "CMD": CMD needs an argument/);
    assert.throws(() => applyChange({}, "WORKDIR srv"), /WORKDIR must be an absolute path/);
    assert.throws(() => applyChange({}, "EXPOSE 99999"), /"99999" is not a port/);
    assert.throws(() => applyChange({}, "ENV A"), /ENV needs key=value/);
    assert.throws(() => applyChange({}, 'ENV A="x\\q"'), /is not a valid quoted value/);
  });
});

describe("a filesystem tarball as an image layer", () => {
  it("is described as tar, or as tar+gzip with the digest of what it decompresses to", async () => {
    const tar = await tarOf({ "bin/hello": "hi\n" });
    writeFileSync(join(dir, "fs.tar"), tar);
    writeFileSync(join(dir, "fs.tar.gz"), gzipSync(tar));
    const plain = await describeLayer(join(dir, "fs.tar"));
    assert.deepEqual(plain, { path: join(dir, "fs.tar"), mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha256(tar), diffId: sha256(tar), size: tar.length });
    const gzipped = await describeLayer(join(dir, "fs.tar.gz"));
    assert.equal(gzipped.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
    assert.equal(gzipped.diffId, sha256(tar));
    assert.notEqual(gzipped.digest, gzipped.diffId);
  });

  it("refuses an empty file, a file that is not a tar, and a gzip of something else", async () => {
    writeFileSync(join(dir, "empty"), "");
    writeFileSync(join(dir, "text"), "not a tarball\n".repeat(100));
    writeFileSync(join(dir, "text.gz"), gzipSync(Buffer.from("not a tarball\n".repeat(100))));
    await assert.rejects(describeLayer(join(dir, "empty"), "stdin"), { message: "stdin is empty: give a tar archive of a filesystem (tar or tar.gz)" });
    await assert.rejects(describeLayer(join(dir, "text")), /text is not a tar archive \(nor gzip-compressed\)/);
    await assert.rejects(describeLayer(join(dir, "text.gz")), /text\.gz is not a tar archive inside its gzip/);
    await assert.rejects(describeLayer(join(dir, "missing")), /cannot read .*missing: ENOENT/);
  });

  it("is written with its config as an OCI image layout whose every blob matches its digest", async () => {
    const tar = await tarOf({ "etc/motd": "hello\n" });
    writeFileSync(join(dir, "layout.tar.gz"), gzipSync(tar));
    const layer = await describeLayer(join(dir, "layout.tar.gz"));
    const config = imageConfig(layer, { config: { Cmd: ["cat", "/etc/motd"] }, platform: parsePlatform("linux/arm64/v8"), message: "from a tarball", created: new Date(0) });
    const files = await filesOf(layoutArchive(layer, config));
    assert.deepEqual(JSON.parse(files.get("oci-layout")!.toString()), { imageLayoutVersion: "1.0.0" });
    for (const [name, content] of files) if (name.startsWith("blobs/")) assert.equal(sha256(content), name.slice("blobs/".length).replace("/", ":"), name);
    const index = JSON.parse(files.get("index.json")!.toString()) as { manifests: { digest: string }[] };
    const manifest = JSON.parse(files.get(`blobs/${index.manifests[0]!.digest.replace(":", "/")}`)!.toString()) as { config: { digest: string }; layers: { mediaType: string; digest: string; size: number }[] };
    assert.deepEqual(manifest.layers, [{ mediaType: layer.mediaType, digest: layer.digest, size: layer.size }]);
    const written = JSON.parse(files.get(`blobs/${manifest.config.digest.replace(":", "/")}`)!.toString()) as Record<string, unknown>;
    assert.deepEqual(written, {
      created: "1970-01-01T00:00:00.000Z",
      architecture: "arm64",
      os: "linux",
      variant: "v8",
      config: { Cmd: ["cat", "/etc/motd"] },
      rootfs: { type: "layers", diff_ids: [sha256(tar)] },
      history: [{ created: "1970-01-01T00:00:00.000Z", created_by: "moby import", comment: "from a tarball" }],
    });
  });

  it("is for the platform given, or this machine's; a bad one is refused", () => {
    assert.deepEqual(parsePlatform("linux/amd64"), { os: "linux", architecture: "amd64" });
    assert.equal(parsePlatform("").os, process.platform);
    assert.throws(() => parsePlatform("linux"), /--platform: "linux" is not os\/arch\[\/variant\]/);
  });
});
