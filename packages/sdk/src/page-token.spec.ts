import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { InvalidArgumentError } from "./errors.js";
import { PageTokens, loadOrCreateKey } from "./page-token.js";

const tokens = new PageTokens(randomBytes(32));

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InvalidArgumentError);
    assert.equal(error.field, "page_token");
    return error.message;
  }
  assert.fail("expected INVALID_ARGUMENT naming page_token");
}

describe("page tokens", () => {
  it("carry the last key of a listing with its filter", () => {
    for (const [id, filter] of [["web-1", ""], ["a", "labels.app==web"], ["x".repeat(76), 'labels."k"==é']]) {
      const token = tokens.encode(id!, filter!);
      assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      assert.equal(tokens.decode(token, filter!), id);
    }
  });

  it("are refused with another filter", () => {
    const token = tokens.encode("web", "labels.app==web");
    assert.match(refusal(() => tokens.decode(token, "labels.app==api")), /another filter/);
    assert.match(refusal(() => tokens.decode(token, "")), /another filter/);
  });

  it("are refused when not made by this issuer: forged, altered, truncated or signed with another key", () => {
    const token = tokens.encode("web", "");
    const [body, signature] = token.split(".");
    const forged = `${Buffer.from(JSON.stringify({ v: 1, after: "zzz", filter: "x" })).toString("base64url")}.${signature}`;
    for (const bad of [forged, `${body}.`, `${body}`, `${body}.${signature}.x`, token.slice(0, -2), "garbage", ".", "x".repeat(600), new PageTokens(randomBytes(32)).encode("web", "")]) {
      assert.match(refusal(() => tokens.decode(bad, "")), /not a token returned by this service/, bad.slice(0, 40));
    }
  });

  it("stay valid for an issuer with the same key (across restarts)", () => {
    const key = randomBytes(32);
    assert.equal(new PageTokens(key).decode(new PageTokens(key).encode("id9", "image~=x"), "image~=x"), "id9");
  });

  it("round-trip for the same filter only, and refuse foreign tokens, naming the issuer", () => {
    const runtime = new PageTokens(Buffer.alloc(32, 7), "this runtime");
    const token = runtime.encode("web-1", "status==running");
    assert.equal(runtime.decode(token, "status==running"), "web-1");
    assert.throws(() => runtime.decode(token, ""), /page_token: was returned for another filter/);
    assert.throws(() => new PageTokens(Buffer.alloc(32, 8), "this runtime").decode(token, "status==running"), /page_token: is not a token returned by this runtime$/);
    assert.throws(() => runtime.decode("x.y", ""), /page_token/);
  });

  it("need a key of at least 16 bytes", () => {
    assert.throws(() => new PageTokens(randomBytes(15)), /at least 16 bytes/);
  });
});

describe("loadOrCreateKey", () => {
  const dir = mkdtempSync(join(tmpdir(), "page-token-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("makes a 32-byte key readable by its owner only, then reads the same one back", () => {
    const path = join(dir, "state", "token.key");
    const key = loadOrCreateKey(path);
    assert.equal(key.byteLength, 32);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(loadOrCreateKey(path), key);
    assert.deepEqual(readFileSync(path), key);
  });

  it("replaces a key of another length", () => {
    const path = join(dir, "short.key");
    writeFileSync(path, Buffer.alloc(8));
    const key = loadOrCreateKey(path);
    assert.equal(key.byteLength, 32);
    assert.deepEqual(readFileSync(path), key);
  });
});
