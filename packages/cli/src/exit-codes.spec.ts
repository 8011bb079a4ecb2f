import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EXIT_CANNOT_EXECUTE, EXIT_CLI_ERROR, EXIT_NOT_FOUND, execFailureCode, userLookupFailureCode } from "./exit-codes.js";

describe("execFailureCode", () => {
  it("tells runc's not found from its permission denied, as the runtime passes them on", () => {
    const prefix = "runc create failed: unable to start container process: ";
    assert.equal(execFailureCode(`${prefix}exec: "nosuch": executable file not found in $PATH`), EXIT_NOT_FOUND);
    assert.equal(execFailureCode(`${prefix}exec: "/nodir/x": stat /nodir/x: no such file or directory`), EXIT_NOT_FOUND);
    assert.equal(execFailureCode(`runc exec failed: exec failed: ${prefix}exec: "/bin/noexec": permission denied`), EXIT_CANNOT_EXECUTE);
  });

  it("is undefined for any other failure, even one that mentions a missing file", () => {
    assert.equal(execFailureCode("runc create failed: rootfs: no such file or directory"), undefined);
    assert.equal(execFailureCode('no task for container "c1"'), undefined);
  });
});

describe("userLookupFailureCode", () => {
  it("is 125 for a user or group the container does not have, in the runtime's words", () => {
    assert.equal(userLookupFailureCode("unable to find user bob: no matching entries in passwd file"), EXIT_CLI_ERROR);
    assert.equal(userLookupFailureCode("the image's User: unable to find group staff: no matching entries in group file"), EXIT_CLI_ERROR);
    assert.equal(userLookupFailureCode('task "x" is STOPPED: it has exited'), undefined);
    assert.equal(userLookupFailureCode("unable to find user bob"), undefined);
  });
});
