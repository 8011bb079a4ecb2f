import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { errnoOf, errorCodes, notListeningErrno } from "./errno.js";

/** An error with a code, as Node makes them. */
function coded(code: string, cause?: unknown): Error {
  return Object.assign(new Error(code, { cause }), { code });
}

describe("errno", () => {
  it("reads the codes along the cause chain, outermost first", () => {
    const error = new Error("call failed", { cause: coded("ERR_HTTP2_STREAM_ERROR", coded("ECONNRESET")) });
    assert.deepEqual(errorCodes(error), ["ERR_HTTP2_STREAM_ERROR", "ECONNRESET"]);
    assert.equal(errnoOf(error), "ECONNRESET");
    assert.equal(errnoOf(new Error("plain")), undefined);
    assert.equal(errnoOf("not an error"), undefined);
  });

  it("takes ENOENT, ECONNREFUSED and ENOTSOCK for a socket nothing listens on, at any depth", () => {
    for (const code of ["ENOENT", "ECONNREFUSED", "ENOTSOCK"]) assert.equal(notListeningErrno(new Error("x", { cause: coded(code) })), code);
    assert.equal(notListeningErrno(coded("EACCES")), undefined);
  });

  it("stops after ten causes, even on a cycle", () => {
    const a = coded("EA");
    const b = coded("EB", a);
    (a as { cause?: unknown }).cause = b;
    assert.equal(errorCodes(a).length, 10);
  });
});
