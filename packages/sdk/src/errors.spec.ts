import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  AlreadyExistsError,
  FailedPreconditionError,
  INTERNAL_ERROR_MESSAGE,
  InvalidArgumentError,
  NotFoundError,
  OutOfRangeError,
  ResourceExhaustedError,
  RevisionConflictError,
  UnavailableError,
  toConnectError,
} from "./errors.js";

describe("toConnectError", () => {
  it("maps each domain error to its canonical code and keeps its message", () => {
    const cases: [Error, Code][] = [
      [new NotFoundError("container web not found"), Code.NotFound],
      [new AlreadyExistsError("container web exists"), Code.AlreadyExists],
      [new InvalidArgumentError("container.id", "too long"), Code.InvalidArgument],
      [new FailedPreconditionError("task is running"), Code.FailedPrecondition],
      [new RevisionConflictError("revision 3 is not 4"), Code.Aborted],
      [new OutOfRangeError("revision 1 is compacted"), Code.OutOfRange],
      [new ResourceExhaustedError("too many execs"), Code.ResourceExhausted],
      [new UnavailableError("store is down"), Code.Unavailable],
    ];
    for (const [error, code] of cases) {
      const mapped = toConnectError(error);
      assert.equal(mapped.error.code, code, error.name);
      assert.equal(mapped.error.rawMessage, error.message);
      assert.equal(mapped.unexpected, false);
    }
  });

  it("names the field of an invalid argument first", () => {
    assert.equal(new InvalidArgumentError("container.labels", "key too long").message, "container.labels: key too long");
  });

  it("passes a ConnectError through unchanged", () => {
    const original = new ConnectError("nope", Code.PermissionDenied);
    assert.equal(toConnectError(original).error, original);
  });

  it("hides an unexpected error behind INTERNAL with a fixed message", () => {
    const mapped = toConnectError(new TypeError("cannot read properties of undefined (reading 'x') at /src/secret.ts:12"));
    assert.equal(mapped.error.code, Code.Internal);
    assert.equal(mapped.error.rawMessage, INTERNAL_ERROR_MESSAGE);
    assert.equal(mapped.unexpected, true);
    assert.equal(toConnectError("a string").error.code, Code.Internal);
  });

  it("maps a timeout to DEADLINE_EXCEEDED and an abort to CANCELLED", () => {
    assert.equal(toConnectError(new DOMException("timed out", "TimeoutError")).error.code, Code.DeadlineExceeded);
    assert.equal(toConnectError(new DOMException("aborted", "AbortError")).error.code, Code.Canceled);
  });
});
