import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code } from "@connectrpc/connect";
import { ComponentError } from "./errors.js";
import { MAX_MATCH_INPUT_LENGTH, compileRe2, matchesFilter, parseFilter } from "./filter.js";

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

  it("matches ~= in linear time: patterns that make a backtracking engine run for ever answer at once", () => {
    // A JavaScript RegExp takes 2^n steps for these; with it this test would not end.
    assert.equal(compileRe2("^(a+)+$").test("a".repeat(40) + "!"), false);
    assert.equal(compileRe2("^/(a+)+$").test("/" + "a".repeat(41) + "!"), false);
    assert.equal(compileRe2("(x+x+)+y").test("x".repeat(4000)), false);
    assert.equal(compileRe2("^(a|aa)+$").test("a".repeat(4000)), true);
    const id = (text: string) => matchesFilter(parseFilter(text, fields), (p) => (p[0] === "id" ? "a".repeat(40) + "!" : undefined));
    assert.equal(id('id~="^(a+)+$"'), false);
  });

  it("takes the common subset of RE2 and ECMAScript syntax, with leading flags", () => {
    assert.equal(compileRe2("(?i)^WEB-").test("web-1"), true);
    assert.equal(compileRe2("(?s)a.b").test("a\nb"), true);
    assert.equal(compileRe2("(?m)^b$").test("a\nb"), true);
    assert.equal(compileRe2("(?P<name>web)-(?<n>\\d+)").test("web-12"), true);
    assert.equal(compileRe2("^[0-9a-f]{4}\\b").test("beef cafe"), true);
  });

  it("refuses what only one of RE2 and ECMAScript has, and patterns too large, naming why", () => {
    const refused: [string, RegExp][] = [
      ["(?=a)", /lookaround/],
      ["(?<!a)b", /lookaround/],
      ["(a)\\1", /backreferences/],
      ["(?U)a+", /U \(ungreedy\)/],
      ["(?x)a", /unknown flag "x"/],
      ["a(?i)b", /flags are taken only/],
      ["(?i:a)", /flags are taken only/],
      ["\\u0041", /invalid escape/],
      ["(", /missing closing \)/],
      ["(a|b)".repeat(200), /too complex: it compiles to \d+ instructions, more than 512/],
    ];
    for (const [pattern, reason] of refused) assert.throws(() => compileRe2(pattern), reason, pattern);
    assert.throws(() => parseFilter('id~="(?=x)"', fields, "filter"), /^InvalidArgumentError: filter: invalid regular expression "\(\?=x\)": lookaround/);
  });

  it("does not match a value longer than the bound on work per evaluation", () => {
    assert.equal(compileRe2("a").test("a".repeat(MAX_MATCH_INPUT_LENGTH)), true);
    assert.equal(compileRe2("a").test("a".repeat(MAX_MATCH_INPUT_LENGTH + 1)), false);
  });
});
