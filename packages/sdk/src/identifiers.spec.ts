import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidArgumentError } from "./errors.js";
import { checkId, checkOptionalId, isId } from "./identifiers.js";

/** The reason of the INVALID_ARGUMENT naming "id" that fn throws. */
function reasonOf(fn: () => void): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InvalidArgumentError, String(error));
    assert.equal(error.field, "id");
    return error.message.slice("id: ".length);
  }
  assert.fail("expected INVALID_ARGUMENT");
}

describe("identifiers", () => {
  it("accept letters and digits with single separators, up to 76 characters", () => {
    for (const good of ["a", "web-1", "a.b-c_d", "a.b_c-d", "A1", "x".repeat(76)]) {
      assert.ok(isId(good), good);
      checkId(good, "id");
    }
  });

  it("require a value", () => {
    assert.equal(reasonOf(() => checkId("", "id")), "required");
    assert.ok(!isId(""));
  });

  it("refuse more than 76 characters", () => {
    assert.equal(reasonOf(() => checkId("x".repeat(77), "id")), "is 77 characters, more than 76");
    assert.ok(!isId("x".repeat(77)));
  });

  it("refuse what is not one safe path element", () => {
    for (const bad of ["a..b", "-a", "a-", "a/b", ".", "..", "../x", "a b", "é"]) {
      assert.match(reasonOf(() => checkId(bad, "id")), /is not an identifier: /, bad);
      assert.ok(!isId(bad), bad);
    }
  });

  it("may be optional: empty is unset", () => {
    checkOptionalId("", "id");
    assert.match(reasonOf(() => checkOptionalId("a..b", "id")), /is not an identifier/);
  });
});
