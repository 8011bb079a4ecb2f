import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LazyHeaders, addMetadata } from "./lazy-headers.js";

/** The entries of headers, through its iterator (which the DOM library this compiles with does not declare). */
function entriesOf(headers: Headers): [string, string][] {
  return [...(headers as unknown as Iterable<[string, string]>)];
}

describe("LazyHeaders", () => {
  const source = { ":path": "/a.B/C", ":status": "200", "x-a": "1", "x-b-bin": "AAE", "set-cookie": ["a=1", "b=2"] };

  it("is a Headers with the source's fields, pseudo headers left out", () => {
    const headers = new LazyHeaders(source);
    assert.ok(headers instanceof Headers);
    assert.equal(headers.get("x-a"), "1");
    assert.equal(entriesOf(headers).some(([key]) => key.startsWith(":")), false);
    assert.deepEqual(headers.getSetCookie(), ["a=1", "b=2"]);
  });

  it("fills before iterating, and copies into another Headers", () => {
    const entries = entriesOf(new LazyHeaders(source));
    assert.deepEqual(entries.map(([key]) => key).sort(), ["set-cookie", "set-cookie", "x-a", "x-b-bin"]);
    assert.equal(new Headers(new LazyHeaders(source)).get("x-b-bin"), "AAE");
    const keys: string[] = [];
    new LazyHeaders(source).forEach((_, key) => keys.push(key));
    assert.ok(keys.includes("x-a"));
  });

  it("adds fields delivered later, before or after first use", () => {
    const early = new LazyHeaders();
    early.deliver({ "grpc-status": "0" });
    assert.equal(early.get("grpc-status"), "0");
    const late = new LazyHeaders({ "x-a": "1" });
    assert.equal(late.get("x-a"), "1");
    late.deliver({ "x-t": "2" });
    assert.equal(late.get("x-t"), "2");
  });

  it("tells whether it was ever used", () => {
    const headers = new LazyHeaders();
    assert.equal(headers.touched, false);
    headers.set("x", "y");
    assert.equal(headers.touched, true);
  });
});

describe("addMetadata", () => {
  it("adds metadata, skipping an untouched LazyHeaders and the names the protocol owns", () => {
    assert.deepEqual(addMetadata({ a: "1" }, new LazyHeaders()), { a: "1" });
    const headers = new Headers({ "x-a": "1", "grpc-status": "5", te: "x", "content-type": "text/plain" });
    assert.deepEqual(addMetadata({}, headers), { "x-a": "1" });
  });

  it("passes on an incoming LazyHeaders nobody has read yet (a handler forwarding its request's metadata)", () => {
    assert.deepEqual(addMetadata({}, new LazyHeaders({ ":path": "/x", "x-trace": "abc", "grpc-timeout": "5S" })), { "x-trace": "abc" });
  });

  it("keeps both values of a name set twice, joined by a comma (node:http2 refuses two etag fields)", () => {
    assert.deepEqual(addMetadata({ "x-a": "1" }, new Headers({ "x-a": "2" })), { "x-a": "1, 2" });
    assert.deepEqual(addMetadata({ etag: "one" }, new Headers({ etag: "two", "http2-settings": "x" })), { etag: "one, two" });
  });
});
