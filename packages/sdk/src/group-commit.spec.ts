import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GroupCommit } from "./group-commit.js";

describe("GroupCommit", () => {
  it("commits the writes of one turn together, in order, and acknowledges each with its outcome", async () => {
    const groups: number[][] = [];
    const commits = new GroupCommit<number, string>((writes) => {
      groups.push(writes);
      return writes.map((w) => (w === 3 ? { error: new Error("three refused") } : { value: `done ${w}` }));
    });
    const first = await Promise.allSettled([commits.add(1), commits.add(2), commits.add(3)]);
    assert.deepEqual(groups, [[1, 2, 3]]);
    assert.deepEqual(first.slice(0, 2), [
      { status: "fulfilled", value: "done 1" },
      { status: "fulfilled", value: "done 2" },
    ]);
    assert.match(String((first[2] as PromiseRejectedResult).reason), /three refused/);
    assert.equal(await commits.add(4), "done 4");
    assert.deepEqual(groups, [[1, 2, 3], [4]]);
  });

  it("fails every write of a group whose commit throws, and commits the next group", async () => {
    let fail = true;
    const commits = new GroupCommit<number, number>((writes) => {
      if (fail) throw new Error("disk full");
      return writes.map((value) => ({ value }));
    });
    const failed = await Promise.allSettled([commits.add(1), commits.add(2)]);
    assert.deepEqual(failed.map((r) => r.status), ["rejected", "rejected"]);
    fail = false;
    assert.equal(await commits.add(5), 5);
  });
});
