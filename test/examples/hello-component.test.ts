// examples/hello-component as its README runs it: `npm start` boots the
// example with the reference assembly under moby-init (a manifest of its own,
// the components by their bins), `npm run client` calls it, and Ctrl-C (SIGINT
// to npm's process group) stops everything it started.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { cleanEnv, runCommand } from "../../scripts/local-registry.js";
import { scratchDirectory } from "../support/component-process.js";
import { NpmStart } from "../support/npm-start.js";
import { repoRoot } from "../support/contract-copy.js";

const example = join(repoRoot, "examples/hello-component");

describe("examples/hello-component", () => {
  const scratch = scratchDirectory("moby-hello-example-");
  const runDir = join(scratch.dir, "run");
  let start: NpmStart | undefined;

  after(() => {
    start?.cleanup();
    scratch.remove();
  });

  it("starts with npm start beside the reference assembly, answers npm run client, and stops on Ctrl-C", async () => {
    start = new NpmStart(example, ["--run-dir", runDir]);
    await start.waitFor("assembly ready: 4 components serving");
    const components = await start.components(runDir);
    assert.deepEqual(components.map((c) => c.name).sort(), ["container-runtime", "container-store", "events", "hello", "init"]);
    assert.ok(components.every((c) => c.health === "serving"), JSON.stringify(components));

    const client = await runCommand("npm", ["run", "client", "--", join(runDir, "hello.sock"), "Ada"], example, cleanEnv());
    assert.equal(client.status, 0, client.stdout + client.stderr);
    assert.match(client.stdout, /^hello 0\.1\.0 \(pid \d+\) serves .*hello\.v1\.GreeterService/m);
    assert.match(client.stdout, /^Hello, Ada!$/m);
    assert.match(client.stdout, /^Hello again, Ada! \(3\)$/m);

    await start.interrupt();
    assert.match(start.output, /"component":"init",.*"msg":"stopped"\}$/m, `init stops cleanly on Ctrl-C:\n${start.output}`);
    for (const name of ["events", "container-store", "container-runtime", "hello"]) {
      assert.match(start.output, new RegExp(`"target":"${name}",.*"reason":"exit code 0"`), `${name} exits 0`);
    }
    assert.deepEqual(start.survivors(), [], "nothing npm start started is left running");
  });
});
