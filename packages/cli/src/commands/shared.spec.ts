import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@moby-core/sdk";
import { CliError } from "../init-client.js";
import { forEachId } from "./shared.js";

describe("forEachId", () => {
  it("acts on every id, past failures, and exits with the highest failure's code", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await forEachId(
      ["a", "gone", "b", "down", "c"],
      async (id) => {
        if (id === "gone") throw new ConnectError('no task for container "gone"', Code.NotFound);
        if (id === "down") throw new CliError("cannot reach the container-runtime component");
        return id === "c" ? "c done" : undefined;
      },
      (text) => out.push(text),
      (text) => err.push(text),
    );
    assert.deepEqual(out, ["a\n", "b\n", "c done\n"]);
    assert.deepEqual(err, ['moby: gone: no task for container "gone"\n', "moby: down: cannot reach the container-runtime component\n"]);
    assert.equal(code, 125);
  });

  it("exits 1 when the only failures are refusals, 0 when none failed", async () => {
    const refused = await forEachId(["x"], () => Promise.reject(new ConnectError("is STOPPED", Code.FailedPrecondition)), () => undefined, () => undefined);
    assert.equal(refused, 1);
    assert.equal(await forEachId(["x", "y"], async () => undefined, () => undefined, () => undefined), 0);
  });
});
