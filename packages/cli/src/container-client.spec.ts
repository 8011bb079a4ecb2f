import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Code, ConnectError } from "@moby-core/sdk";
import { componentError, containerError } from "./container-client.js";

describe("componentError", () => {
  it("is one line, 1 for a refusal, 125 for a failure, 126/127 for runc's exec failures", () => {
    assert.deepEqual(
      [componentError(new ConnectError("no such\n  thing", Code.NotFound))].map((e) => [e.message, e.exitCode]),
      [["no such thing", 1]],
    );
    assert.equal(componentError(new ConnectError("cannot reach the container-runtime component", Code.Unavailable)).exitCode, 125);
    assert.equal(componentError(new ConnectError("", Code.Internal)).message, "Internal");
    const notFound = 'runc create failed: unable to start container process: exec: "x": executable file not found in $PATH';
    assert.equal(componentError(new ConnectError(notFound, Code.FailedPrecondition)).exitCode, 127);
  });
});

describe("containerError", () => {
  it("adds what to do to the runtime's no task and has exited", () => {
    assert.equal(containerError(new ConnectError('no task for container "c1"', Code.NotFound)).message, 'no task for container "c1" (moby ps -a lists the containers)');
    assert.equal(containerError(new ConnectError('task "c1" is STOPPED: it has exited', Code.FailedPrecondition)).message, 'task "c1" is STOPPED: it has exited (moby start runs it again)');
    assert.equal(containerError(new ConnectError("something else", Code.FailedPrecondition)).message, "something else");
  });
});
