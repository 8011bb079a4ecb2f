import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { InvalidArgumentError } from "@moby-core/sdk";
import { PageTokens } from "./page-token.js";

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
  it("carry the last id of a listing with its filter", () => {
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

  it("are refused when not made by this store: forged, altered, truncated or signed with another key", () => {
    const token = tokens.encode("web", "");
    const [body, signature] = token.split(".");
    const forged = `${Buffer.from(JSON.stringify({ v: 1, after: "zzz", filter: "x" })).toString("base64url")}.${signature}`;
    for (const bad of [forged, `${body}.`, `${body}`, `${body}.${signature}.x`, token.slice(0, -2), "garbage", ".", "x".repeat(600), new PageTokens(randomBytes(32)).encode("web", "")]) {
      assert.match(refusal(() => tokens.decode(bad, "")), /not a token returned by this service/, bad.slice(0, 40));
    }
  });

  it("stay valid for a store with the same key (across restarts)", () => {
    const key = randomBytes(32);
    assert.equal(new PageTokens(key).decode(new PageTokens(key).encode("id9", "image~=x"), "image~=x"), "id9");
  });
});
