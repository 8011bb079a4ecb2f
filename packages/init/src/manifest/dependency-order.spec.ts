import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkDependencies, formatCycle, startOrder } from "./dependency-order.js";

const node = (name: string, ...requires: string[]) => ({ name, requires });

describe("startOrder", () => {
  it("starts a diamond in three waves", () => {
    const diamond = [node("d", "b", "c"), node("b", "a"), node("c", "a"), node("a")];
    assert.deepEqual(startOrder(diamond), [["a"], ["b", "c"], ["d"]]);
  });

  it("puts each component in the earliest wave its requirements allow", () => {
    const nodes = [node("a"), node("b", "a"), node("c", "b"), node("x"), node("y", "init", "a")];
    assert.deepEqual(startOrder(nodes), [["a", "x"], ["b", "y"], ["c"]]);
  });

  it("starts nothing for no components", () => {
    assert.deepEqual(startOrder([]), []);
  });

  it("refuses a graph with a mistake", () => {
    assert.throws(() => startOrder([node("a", "b"), node("b", "a")]), /dependency cycle: a -> b -> a/);
    assert.throws(() => startOrder([node("a", "nope")]), /nope/);
  });
});

describe("checkDependencies", () => {
  it("finds nothing wrong in a good graph, init included", () => {
    assert.deepEqual(checkDependencies([node("a", "init"), node("b", "a")]), []);
  });

  it("reports unknown and self requirements with their index", () => {
    assert.deepEqual(checkDependencies([node("a", "init", "nope", "a")]), [
      { kind: "unknown", component: "a", requirement: "nope", index: 1 },
      { kind: "self", component: "a", index: 2 },
    ]);
  });

  it("reports one cycle per group, from the first declared member", () => {
    const nodes = [node("x"), node("a", "b"), node("b", "c"), node("c", "a", "x"), node("p", "q"), node("q", "p")];
    const cycles = checkDependencies(nodes).map((problem) => (problem.kind === "cycle" ? formatCycle(problem.cycle) : ""));
    assert.deepEqual(cycles, ["a -> b -> c -> a", "p -> q -> p"]);
  });

  it("reports the shortest cycle through the first member", () => {
    const nodes = [node("a", "b", "c"), node("b", "c"), node("c", "a")];
    const [problem] = checkDependencies(nodes);
    assert.deepEqual(problem, { kind: "cycle", cycle: ["a", "c"] });
  });
});
