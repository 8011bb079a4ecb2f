import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { after, describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { pack } from "tar-stream";
import { LayerUnpackPool } from "./layer-unpack-pool.js";
import { UnsafeEntryError } from "./layer-unpacker.js";

const dir = mkdtempSync(join(tmpdir(), "oci-unpack-pool-spec-"));
after(() => rmSync(dir, { recursive: true, force: true }));

type Entry = { name: string; content?: Buffer; mode?: number; linkname?: string };

/** A tar of entries, as a registry's layer holds before compression. */
async function tarOf(entries: Entry[]): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on("data", (chunk: unknown) => void chunks.push(chunk as Buffer));
  const ended = new Promise<void>((resolve) => tar.on("end", () => resolve()));
  for (const entry of entries) {
    const header = { name: entry.name, mode: entry.mode ?? 0o644, mtime: new Date(1_000_000_000_000), ...(entry.linkname ? { type: "symlink" as const, linkname: entry.linkname } : {}) };
    await new Promise<void>((resolve, reject) => tar.entry(header, entry.content ?? Buffer.alloc(0), (error) => (error ? reject(error) : resolve())));
  }
  tar.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** bytes in the small chunks a network delivers; fails with failure after failAfter bytes when given. */
async function* chunked(bytes: Buffer, failure?: Error, failAfter = 0): AsyncGenerator<Uint8Array> {
  for (let offset = 0; offset < bytes.byteLength; offset += 64 * 1024) {
    if (failure && offset >= failAfter) throw failure;
    yield bytes.subarray(offset, offset + 64 * 1024);
  }
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

describe("LayerUnpackPool", () => {
  // One worker, so every case below runs on the worker the previous one used (and maybe failed on).
  const pool = new LayerUnpackPool(1);
  const big = randomBytes(9 * 1024 * 1024 + 123);

  it("unpacks a gzip layer on a worker: files, modes, times, links and the diff id of the tar", async () => {
    const tar = await tarOf([{ name: "data/big.bin", content: big }, { name: "etc/conf", content: Buffer.from("a=b\n"), mode: 0o640 }, { name: "etc/link", linkname: "conf" }]);
    const root = mkdtempSync(join(dir, "ok-"));
    const result = await pool.unpack(chunked(gzipSync(tar)), root, "sha256:layer");
    assert.equal(result.diffId, sha256(tar));
    assert.equal(result.size, big.byteLength + 4);
    assert.ok(readFileSync(join(root, "data/big.bin")).equals(big));
    assert.equal(lstatSync(join(root, "etc/conf")).mode & 0o7777, 0o640);
    assert.equal(lstatSync(join(root, "etc/conf")).mtimeMs, 1_000_000_000_000);
    assert.equal(readlinkSync(join(root, "etc/link")), "conf");
  });

  it("refuses an entry that escapes the layer with UnsafeEntryError (FAILED_PRECONDITION)", async () => {
    const tar = await tarOf([{ name: "ok.txt", content: Buffer.from("x") }, { name: "../escaped.txt", content: Buffer.from("y") }]);
    const root = mkdtempSync(join(dir, "unsafe-"));
    await assert.rejects(pool.unpack(chunked(tar), root, "sha256:evil"), (error: unknown) => {
      assert.ok(error instanceof UnsafeEntryError, String(error));
      assert.equal(error.code, Code.FailedPrecondition);
      assert.match(error.message, /layer sha256:evil: entry "\.\.\/escaped\.txt" has a "\.\." part/);
      return true;
    });
  });

  it("fails with the source's error when the layer's bytes stop coming", async () => {
    const cut = new Error("the layer's download stopped");
    const root = mkdtempSync(join(dir, "cut-"));
    await assert.rejects(pool.unpack(chunked(gzipSync(await tarOf([{ name: "big.bin", content: big }])), cut, 6 * 1024 * 1024), root, "sha256:cut"), (error) => error === cut);
  });

  it("stops when its signal aborts, and the worker unpacks the next layer", async () => {
    const controller = new AbortController();
    const tar = await tarOf([{ name: "big.bin", content: big }]);
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield tar.subarray(0, 2 * 1024 * 1024);
      controller.abort();
      await new Promise((resolve) => setTimeout(resolve, 50));
      yield tar.subarray(2 * 1024 * 1024);
    }
    await assert.rejects(pool.unpack(slow(), mkdtempSync(join(dir, "aborted-")), "sha256:aborted", controller.signal), /cancelled/);
    const root = mkdtempSync(join(dir, "after-"));
    const result = await pool.unpack(chunked(tar), root, "sha256:after");
    assert.equal(result.diffId, sha256(tar));
  });

  it("is DATA_LOSS for a corrupt gzip stream", async () => {
    const gz = gzipSync(await tarOf([{ name: "big.bin", content: big }]));
    gz.fill(0x55, 4096, 8192);
    await assert.rejects(pool.unpack(chunked(gz), mkdtempSync(join(dir, "corrupt-")), "sha256:corrupt"), (error: { code?: Code; message: string }) => {
      assert.equal(error.code, Code.DataLoss);
      assert.match(error.message, /gzip data is corrupt/);
      return true;
    });
  });
});
