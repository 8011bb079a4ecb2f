import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { ComponentError } from "./errors.js";
import { matchesFilter, parseFilter } from "./filter.js";

const fields = { exact: ["id", "image", "topic"], prefixes: ["labels"] };
const record: Record<string, string> = { id: "web-1", image: "busybox:1.36", "labels.app": "web", "labels.tier": "" };
const read = (path: string[]) => record[path.join(".")];
const matches = (text: string) => matchesFilter(parseFilter(text, fields), read);

describe("filters", () => {
  it("matches ==, !=, ~= and presence, comma meaning AND", () => {
    assert.equal(matches("labels.app==web"), true);
    assert.equal(matches("labels.app==db"), false);
    assert.equal(matches('image~="^busybox"'), true);
    assert.equal(matches("image~=/^alpine/"), false);
    assert.equal(matches("labels.app==web,id==web-1"), true);
    assert.equal(matches("labels.app==web,id==web-2"), false);
    assert.equal(matches("labels.missing!=x"), true, "!= matches an absent field");
    assert.equal(matches("labels.app"), true);
    assert.equal(matches("labels.tier"), true, "a label set to an empty value is present");
    assert.equal(matches("labels.missing"), false);
    assert.equal(matches(""), true, "an empty filter matches everything");
  });

  it("takes label keys of several parts", () => {
    assert.equal(matchesFilter(parseFilter("labels.app.kubernetes.io==web", fields), (p) => (p.join(".") === "labels.app.kubernetes.io" ? "web" : undefined)), true);
  });

  it("reads quoted values and quoted fields with escapes", () => {
    assert.equal(matchesFilter(parseFilter('labels."my key"=="a \\"b\\", c"', fields), (p) => (p[1] === "my key" ? 'a "b", c' : undefined)), true);
  });

  it("rejects a bad filter with INVALID_ARGUMENT naming the request field", () => {
    for (const bad of ["labels.app==", "nope==x", "labels.app=web", 'image=="open', "image~=(", "id.x==d", "id==x,"]) {
      assert.throws(() => parseFilter(bad, fields, "filters[0]"), (error: unknown) => {
        assert.ok(error instanceof ComponentError);
        assert.equal(error.code, Code.InvalidArgument);
        assert.match(error.message, /^filters\[0\]: /);
        return true;
      }, bad);
    }
    assert.throws(() => parseFilter("id==" + "x".repeat(5000), fields), /longer than 4096 bytes/);
    assert.throws(() => parseFilter("id==" + "é".repeat(2047), fields), /longer than 4096 bytes/, "counted in bytes");
  });
});
