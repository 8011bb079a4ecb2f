import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HealthStatusBoard, ServingStatus } from "./health.js";

describe("HealthStatusBoard", () => {
  it("tells listeners about changes only", () => {
    const board = new HealthStatusBoard();
    const seen: [string, ServingStatus][] = [];
    const unsubscribe = board.subscribe((service, status) => seen.push([service, status]));
    board.set("", ServingStatus.SERVING);
    board.set("", ServingStatus.SERVING);
    board.set("a.v1.A", ServingStatus.NOT_SERVING);
    unsubscribe();
    board.set("", ServingStatus.NOT_SERVING);
    assert.deepEqual(seen, [
      ["", ServingStatus.SERVING],
      ["a.v1.A", ServingStatus.NOT_SERVING],
    ]);
    assert.equal(board.get("unknown"), undefined);
  });

  it("sets every service at once", () => {
    const board = new HealthStatusBoard();
    board.set("", ServingStatus.SERVING);
    board.set("a.v1.A", ServingStatus.SERVING);
    board.setAll(ServingStatus.NOT_SERVING);
    assert.deepEqual(board.entries(), [
      ["", ServingStatus.NOT_SERVING],
      ["a.v1.A", ServingStatus.NOT_SERVING],
    ]);
  });
});
