// examples/hello-component as its README runs it: `npm start` boots the
// example with the reference assembly under moby-init (a manifest of its own,
// the components by their bins), `npm run client` calls it, and Ctrl-C (SIGINT
// to npm's process group) stops everything it started.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { cleanEnv, runCommand } from "../../scripts/local-registry.js";
import { alive, scratchDirectory } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";

const example = join(repoRoot, "examples/hello-component");

describe("examples/hello-component", () => {
  const scratch = scratchDirectory("moby-hello-example-");
  const runDir = join(scratch.dir, "run");
  let start: ChildProcess | undefined;
  let pids: number[] = [];

  after(() => {
    try {
      if (start?.pid && start.exitCode === null && start.signalCode === null) process.kill(-start.pid, "SIGKILL");
    } catch {
      // the group has ended meanwhile
    }
    for (const pid of pids.filter(alive)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone meanwhile
      }
    }
    scratch.remove();
  });

  it("starts with npm start beside the reference assembly, answers npm run client, and stops on Ctrl-C", async () => {
    start = spawn("npm", ["start", "--", "--run-dir", runDir], {
      cwd: example,
      env: cleanEnv(),
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    start.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    start.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => start!.once("exit", () => resolve()));

    const deadline = Date.now() + 60_000;
    while (!output.includes("assembly ready: 4 components serving")) {
      if (start.exitCode !== null || Date.now() > deadline) assert.fail(`the assembly did not get ready:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const listed = await runCommand(join(repoRoot, "node_modules/.bin/moby"), ["--run-dir", runDir, "components", "--json"], example, cleanEnv());
    assert.equal(listed.status, 0, listed.stderr);
    const components = JSON.parse(listed.stdout) as { name: string; health: string; pid: number }[];
    assert.deepEqual(components.map((c) => c.name).sort(), ["container-runtime", "container-store", "events", "hello", "init"]);
    assert.ok(components.every((c) => c.health === "serving"), listed.stdout);
    pids = components.map((c) => c.pid);

    const client = await runCommand("npm", ["run", "client", "--", join(runDir, "hello.sock"), "Ada"], example, cleanEnv());
    assert.equal(client.status, 0, client.stdout + client.stderr);
    assert.match(client.stdout, /^hello 0\.1\.0 \(pid \d+\) serves .*hello\.v1\.GreeterService/m);
    assert.match(client.stdout, /^Hello, Ada!$/m);
    assert.match(client.stdout, /^Hello again, Ada! \(3\)$/m);

    process.kill(-start.pid!, "SIGINT");
    await exited;
    assert.match(output, /"component":"init",.*"msg":"stopped"\}$/m, `init stops cleanly on Ctrl-C:\n${output}`);
    for (const name of ["events", "container-store", "container-runtime", "hello"]) {
      assert.match(output, new RegExp(`"target":"${name}",.*"reason":"exit code 0"`), `${name} exits 0`);
    }
    const left = pids.filter(alive);
    assert.deepEqual(left, [], "nothing npm start started is left running");
  });
});
