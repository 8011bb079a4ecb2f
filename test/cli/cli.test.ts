// The moby CLI against a real moby-init: init boots an assembly of two hello
// components (beta requires alpha) from a manifest in a scratch run
// directory, and every command runs as a real `node packages/cli/bin/moby.js`
// process, checked by its stdout, stderr and exit code.
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { scratchDirectory } from "../support/component-process.js";
import type { Exit } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";
import { OwnedProcess } from "../support/owned-process.js";

/** The CLI's entry point. */
const MOBY = join(repoRoot, "packages/cli/bin/moby.js");
/** init's entry point. */
const MOBY_INIT = join(repoRoot, "packages/init/bin/moby-init.js");
/** How long the assembly may take to become ready. */
const READY_TIMEOUT_MS = 30_000;

/** One component as `moby components --json` prints it. */
interface ComponentJson {
  name: string;
  state: string;
  health: string;
  pid: number;
  restarts: number;
  uptimeSeconds: number | null;
  socket: string;
  requires: string[];
  message: string;
  lastExit: { exitCode: number; signal: string | null; time: string | null } | null;
  startTime: string | null;
  readyTime: string | null;
}

/** How a moby command ended. */
interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `moby --run-dir runDir ...args` to completion (without blocking the test process). */
function moby(runDir: string, ...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MOBY, "--run-dir", runDir, ...args], { cwd: repoRoot, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `moby components --json`, parsed; fails the test if the command fails. */
async function listComponents(runDir: string): Promise<ComponentJson[]> {
  const result = await moby(runDir, "components", "--json");
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as ComponentJson[];
}

/** Polls `moby components --json` until ready says yes; fails with the last listing after timeoutMs. */
async function waitFor(runDir: string, what: string, ready: (components: ComponentJson[]) => boolean, timeoutMs = READY_TIMEOUT_MS): Promise<ComponentJson[]> {
  const deadline = Date.now() + timeoutMs;
  let last: ComponentJson[] | string = "nothing yet";
  while (Date.now() < deadline) {
    const result = await moby(runDir, "components", "--json");
    if (result.code === 0) {
      const components = JSON.parse(result.stdout) as ComponentJson[];
      if (ready(components)) return components;
      last = components;
    } else {
      last = result.stderr;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`not ${what} within ${timeoutMs} ms; last: ${JSON.stringify(last, null, 2)}`);
}

/** Whether every component is running and serving. */
const allServing = (components: ComponentJson[]) => components.length > 0 && components.every((c) => c.state === "running" && c.health === "serving");

/** The component called name; fails the test if it is missing. */
function named(components: ComponentJson[], name: string): ComponentJson {
  const component = components.find((c) => c.name === name);
  assert.ok(component, `no component ${name} in ${JSON.stringify(components)}`);
  return component;
}

describe("moby CLI against moby-init", () => {
  const scratch = scratchDirectory("moby-cli-");
  const runDir = join(scratch.dir, "run");
  const emptyRunDir = join(scratch.dir, "empty");
  let init: OwnedProcess | undefined;

  before(async () => {
    const hello = (name: string) => ({
      command: [process.execPath, "--import", "tsx", join(repoRoot, "test/fixtures/hello-server.ts")],
      workingDir: repoRoot,
      env: { MOBY_TEST_SERVE_OPTIONS: JSON.stringify({ name }) },
    });
    const manifest = { components: { alpha: hello("alpha"), beta: { ...hello("beta"), requires: ["alpha"] } } };
    const manifestFile = join(scratch.dir, "moby.yaml");
    writeFileSync(manifestFile, JSON.stringify(manifest, null, 2)); // JSON is YAML

    init = new OwnedProcess(process.execPath, [MOBY_INIT, "--manifest", manifestFile, "--run-dir", runDir], { cwd: repoRoot });

    try {
      await waitFor(runDir, "all running and serving", (components) => components.length === 3 && allServing(components));
    } catch (error) {
      throw new Error(`${(error as Error).message}\ninit's output:\n${init.output}`);
    }
  });

  after(async () => {
    if (init?.running === true) {
      const exit = await init.stop("SIGTERM");
      assert.deepEqual(exit, { code: 0, signal: null }, `init did not exit cleanly:\n${init.output}`);
    }
    scratch.remove();
  });

  it("lists init and both components as running and serving, as JSON", async () => {
    const components = await listComponents(runDir);
    assert.deepEqual(
      components.map((c) => c.name).sort(),
      ["alpha", "beta", "init"],
    );
    assert.ok(
      components.findIndex((c) => c.name === "alpha") < components.findIndex((c) => c.name === "beta"),
      "alpha starts before beta",
    );
    for (const c of components) {
      assert.equal(c.state, "running", c.name);
      assert.equal(c.health, "serving", c.name);
      assert.equal(typeof c.pid, "number");
      assert.ok(c.pid > 0, `${c.name} has a pid`);
      assert.equal(c.socket, join(runDir, `${c.name}.sock`));
      assert.equal(typeof c.uptimeSeconds, "number");
      assert.equal(typeof c.restarts, "number");
      assert.ok(Array.isArray(c.requires));
      assert.equal(typeof c.message, "string");
      assert.ok(c.startTime !== null && !Number.isNaN(Date.parse(c.startTime)), `${c.name} startTime`);
    }
    assert.deepEqual(named(components, "beta").requires, ["alpha"]);
    assert.equal(named(components, "init").pid, init!.pid);
    assert.notEqual(named(components, "alpha").pid, named(components, "beta").pid);
  });

  it("prints a table with a header and a row per component", async () => {
    const result = await moby(runDir, "components");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, "");
    const lines = result.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^NAME\s+STATE\s+HEALTH\s+PID\s+RESTARTS\s+UPTIME\s+SOCKET(\s+MESSAGE)?$/);
    assert.equal(lines.length, 4, result.stdout);
    for (const name of ["init", "alpha", "beta"]) {
      const row = lines.find((line) => line.startsWith(`${name} `));
      assert.ok(row, `a row for ${name}:\n${result.stdout}`);
      assert.match(row, new RegExp(`^${name}\\s+running\\s+serving\\s+\\d+\\s+\\d+\\s+\\S+\\s+${join(runDir, `${name}.sock`)}`));
    }
  });

  it("prints a component's log lines", async () => {
    const result = await moby(runDir, "component", "logs", "alpha");
    assert.equal(result.code, 0, result.stderr);
    const messages = result.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { msg?: string; component?: string });
    assert.ok(
      messages.some((m) => m.msg === "serving" && m.component === "alpha"),
      `a "serving" line from alpha in:\n${result.stdout}`,
    );
  });

  it("prints only the last lines with --tail", async () => {
    const all = (await moby(runDir, "component", "logs", "alpha")).stdout.trimEnd().split("\n");
    const result = await moby(runDir, "component", "logs", "alpha", "--tail", "1");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trimEnd().split("\n"), all.slice(-1));
  });

  it("follows logs until interrupted, then exits 0", async () => {
    const child = spawn(process.execPath, [MOBY, "--run-dir", runDir, "component", "logs", "--follow", "alpha"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<Exit>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line within 10 s; stderr: ${stderr}`)), 10_000);
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('"msg":"serving"')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill("SIGINT");
    assert.deepEqual(await exited, { code: 0, signal: null }, stderr);
    assert.equal(stderr, "");
  });

  it("restarts a component: a new process, one more restart", async () => {
    const listed = await listComponents(runDir);
    const before = named(listed, "beta");
    const result = await moby(runDir, "component", "restart", "beta", "--timeout", "5s");
    assert.equal(result.code, 0, result.stderr);
    const match = /^restarted beta \(pid (\d+)\)\n$/.exec(result.stdout);
    assert.ok(match, `output: ${JSON.stringify(result.stdout)}`);
    const newPid = Number(match[1]);
    assert.notEqual(newPid, before.pid);

    const components = await waitFor(runDir, "beta serving again", (cs) => {
      const beta = cs.find((c) => c.name === "beta");
      return beta?.state === "running" && beta.health === "serving";
    });
    const after = named(components, "beta");
    assert.equal(after.pid, newPid);
    assert.equal(after.restarts, before.restarts + 1);
    assert.ok(after.lastExit !== null, "beta has a last exit");
    assert.equal(named(components, "alpha").pid, named(listed, "alpha").pid, "alpha is left alone");
  });

  it("stops and starts a component", async () => {
    // Several names, one unknown: beta is stopped all the same, the unknown one reported, exit 1.
    const stopped = await moby(runDir, "component", "stop", "nope", "beta");
    assert.equal(stopped.code, 1, stopped.stderr);
    assert.equal(stopped.stdout, "stopped beta\n");
    assert.equal(stopped.stderr, 'moby: nope: component "nope" is not declared in the manifest\n');
    const beta = named(await listComponents(runDir), "beta");
    assert.equal(beta.state, "stopped");
    assert.equal(beta.pid, 0);
    assert.equal(beta.uptimeSeconds, null);

    const table = await moby(runDir, "components");
    assert.match(table.stdout, /^beta\s+stopped\s+\S+\s+-\s+\d+\s+-\s+/m);

    const started = await moby(runDir, "component", "start", "beta");
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /^started beta \(pid \d+\)\n$/);
    await waitFor(runDir, "all serving after start", allServing);
  });

  it("fails with exit code 1 (refused) and init's message for an unknown component", async () => {
    for (const args of [["component", "restart", "nope"], ["component", "logs", "nope"], ["component", "stop", "nope"]]) {
      const result = await moby(runDir, ...args);
      assert.equal(result.code, 1, `${args.join(" ")}: ${result.stderr}`);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, /^moby: .*nope.*\n$/);
    }
  });

  it("fails with exit code 125 for a usage error, as docker", async () => {
    const missing = await moby(runDir, "component", "restart");
    assert.equal(missing.code, 125);
    assert.match(missing.stderr, /^moby: missing required argument 'name'/);
    const badTimeout = await moby(runDir, "component", "stop", "beta", "--timeout", "5");
    assert.equal(badTimeout.code, 125);
    assert.match(badTimeout.stderr, /is not a duration/);
    const badFormat = await moby(runDir, "component", "ls", "--format", "{{.Name}");
    assert.equal(badFormat.code, 125);
    assert.match(badFormat.stderr, /"\{\{\.Name\}": template: at column 1: unclosed action: \{\{ without \}\}/);
    const badField = await moby(runDir, "component", "ls", "--format", "{{.Nme}}");
    assert.equal(badField.code, 125);
    assert.match(badField.stderr, /^moby: --format: template: at column 3: \.Nme: no field "Nme" \(fields: Name, State, Health/);
    const noTemplates = await moby(runDir, "top", "x", "--format", "{{.PID}}");
    assert.equal(noTemplates.code, 125);
    assert.match(noTemplates.stderr, /is not a format: give json or table \(this command takes no Go templates\)/);
  });

  it("prints components and versions through docker's Go templates (--format)", async () => {
    const rows = await moby(runDir, "component", "ls", "--format", "{{.Name}}\\t{{.State}}");
    assert.equal(rows.code, 0, rows.stderr);
    const listed = await listComponents(runDir);
    assert.deepEqual(rows.stdout.trimEnd().split("\n").sort(), listed.map((c) => `${c.name}\t${c.state}`).sort());
    const table = await moby(runDir, "component", "ls", "--format", "table {{.Name}}\\t{{.Health | upper}}");
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^NAME {6}HEALTH$/);
    assert.equal(lines.length, 4);
    const json = JSON.parse((await moby(runDir, "version", "--format", "json")).stdout) as { components: { name: string; version: string }[] };
    const server = await moby(runDir, "version", "--format", "{{.Server.Version}} {{range .Server.Components}}{{.Name}},{{end}}");
    assert.equal(server.code, 0, server.stderr);
    assert.equal(server.stdout, `${json.components[0]!.version} ${json.components.map((c) => `${c.name},`).join("")}\n`);
  });

  it("exits 0 for help asked for: moby help, moby --help, moby help COMMAND", async () => {
    for (const args of [["help"], ["--help"], ["help", "ps"], ["component", "--help"], ["component"]]) {
      const result = await moby(runDir, ...args);
      assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stdout, /^Usage: moby/);
    }
    const unknown = await moby(runDir, "component", "frobnicate");
    assert.equal(unknown.code, 125);
    assert.equal(unknown.stderr, 'moby: unknown command "component frobnicate": the component commands are ls, start, stop, restart, logs (moby component --help)\n');
  });

  it("lists components as component ls too: the same JSON with --format json, names with -q", async () => {
    const viaLs = JSON.parse((await moby(runDir, "component", "ls", "--format", "json")).stdout) as ComponentJson[];
    assert.deepEqual(viaLs.map((c) => c.name), (await listComponents(runDir)).map((c) => c.name));
    const quiet = await moby(runDir, "component", "ls", "-q");
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.deepEqual(quiet.stdout.trimEnd().split("\n").sort(), ["alpha", "beta", "init"]);
  });

  it("prints the versions of moby, init and every component with the APIs each serves", async () => {
    const cliVersion = (JSON.parse(readFileSync(join(repoRoot, "packages/cli/package.json"), "utf8")) as { version: string }).version;
    const result = await moby(runDir, "version", "--format", "json");
    assert.equal(result.code, 0, result.stderr);
    const json = JSON.parse(result.stdout) as {
      client: { version: string; node: string };
      components: { name: string; version: string; kind: string; apis: { service: string; apiVersion: string }[]; error: string | null }[];
    };
    assert.deepEqual(json.client, { version: cliVersion, node: process.version });
    assert.deepEqual(json.components.map((c) => c.name).sort(), ["alpha", "beta", "init"]);
    const initInfo = json.components.find((c) => c.name === "init")!;
    assert.equal(initInfo.error, null);
    assert.match(initInfo.version, /^\d+\.\d+\.\d+/);
    assert.ok(initInfo.apis.some((a) => a.service === "moby.supervisor.v1.SupervisorService" && a.apiVersion === "v1"), JSON.stringify(initInfo.apis));
    for (const c of json.components) {
      assert.equal(c.error, null, c.name);
      assert.ok(c.apis.some((a) => a.service === "moby.component.v1.ComponentService" && a.apiVersion === "v1"), `${c.name} serves the component API`);
    }
    const table = await moby(runDir, "version");
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^Client: moby ${cliVersion.replace(/\./g, "\\.")} \\(node ${process.version.replace(/\./g, "\\.")}\\)\nCOMPONENT\\s+VERSION\\s+KIND\\s+APIS\n`));
    assert.match(table.stdout, /^init\s+\S+\s+\S+\s+.*moby\.supervisor\.v1\.SupervisorService \(v1\)/m);
  });

  it("prints the client's version, then exits 125 when init does not answer", async () => {
    const result = await moby(emptyRunDir, "version");
    assert.equal(result.code, 125);
    assert.match(result.stdout, /^Client: moby /);
    assert.match(result.stderr, /^moby: cannot reach init at .*\n$/);
  });

  it("says init is not running when nothing serves in the run directory", async () => {
    const result = await moby(emptyRunDir, "components");
    assert.equal(result.code, 125);
    assert.equal(result.stdout, "");
    assert.equal(
      result.stderr,
      `moby: cannot reach init at ${join(emptyRunDir, "init.sock")}: is moby-init running? (set --run-dir or $MOBY_RUN_DIR)\n`,
    );
  });
});
