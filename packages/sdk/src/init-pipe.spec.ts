import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { ENV_INIT_PIPE_FD } from "./env.js";
import { openInitPipe } from "./init-pipe.js";

describe("openInitPipe", () => {
  it("watches nothing when $MOBY_INIT_PIPE_FD is unset or empty", () => {
    assert.equal(openInitPipe({}), undefined);
    assert.equal(openInitPipe({ [ENV_INIT_PIPE_FD]: "" }), undefined);
  });

  for (const value of ["x", "-1", "2", "3.5", " 3"]) {
    it(`refuses ${JSON.stringify(value)}, naming the variable`, () => {
      assert.throws(() => openInitPipe({ [ENV_INIT_PIPE_FD]: value }), {
        message: `$${ENV_INIT_PIPE_FD}: ${JSON.stringify(value)} is not a file descriptor number of 3 or more (0-2 are stdio)`,
      });
    });
  }

  it("refuses a descriptor that is not open", () => {
    assert.throws(() => openInitPipe({ [ENV_INIT_PIPE_FD]: "987654" }), /^Error: \$MOBY_INIT_PIPE_FD: file descriptor 987654 is not an open pipe or socket from init/);
  });

  it("tells a child that its parent's end closed, and removes the variable from its environment", async () => {
    // A child holding fd 3 as init's pipe: it prints what it sees, then exits once told init is gone.
    const script = `
      const { openInitPipe } = await import(${JSON.stringify(new URL("./init-pipe.ts", import.meta.url).href)});
      const pipe = openInitPipe();
      console.log(JSON.stringify({ fd: pipe.fd, left: process.env.${ENV_INIT_PIPE_FD} ?? null }));
      pipe.onGone((reason) => { console.log(reason); process.exit(0); });
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      env: { ...process.env, [ENV_INIT_PIPE_FD]: "3" },
      stdio: ["ignore", "pipe", "inherit", "pipe"],
    });
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      while (!output.includes("\n")) {
        assert.equal(child.exitCode, null, `the child ended early: ${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.deepEqual(JSON.parse(output.split("\n")[0]!), { fd: 3, left: null });
      (child.stdio[3] as NodeJS.ReadableStream & { destroy(): void }).destroy();
      assert.equal(await exited, 0);
      assert.match(output.split("\n")[1]!, /^its pipe (reached end-of-file|closed)$/);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
