import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { listenOnSocket } from "./socket-file.js";

const dir = mkdtempSync(join(tmpdir(), "moby-socket-file-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("listenOnSocket", () => {
  for (const mode of [0o600, 0o660, 0o666]) {
    it(`creates the socket with mode ${mode.toString(8)} from the start, and leaves the umask as it was`, async () => {
      const socketPath = join(dir, `m${mode.toString(8)}.sock`);
      const server = createServer();
      const umask = process.umask(0o022);
      try {
        const listening = listenOnSocket(server, socketPath, mode);
        // The bind happened inside the call: this is the mode the file was born with, before any chmod.
        assert.equal(statSync(socketPath).mode & 0o777, mode);
        assert.equal(process.umask(0o022), 0o022);
        await listening;
      } finally {
        process.umask(umask);
        await new Promise((resolve) => server.close(resolve));
      }
    });
  }

  it("rejects with the listen error, the umask left as it was", async () => {
    const socketPath = join(dir, "taken.sock");
    const first = createServer();
    await listenOnSocket(first, socketPath, 0o600);
    const second = createServer();
    const umask = process.umask(0o027);
    try {
      await assert.rejects(listenOnSocket(second, socketPath, 0o600), { code: "EADDRINUSE" });
    } finally {
      assert.equal(process.umask(umask), 0o027);
      await new Promise((resolve) => first.close(resolve));
    }
  });
});
