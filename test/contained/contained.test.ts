// The contained reference assembly (moby.contained.yaml), booted for real:
// its images built by `npm run images`'s script (twice for one of them, to
// show the build is reproducible), init starting events, container-store and
// image-store in runc containers; the README's tour run against it as
// written; kill -9 of each contained component and its restart, with the
// stores' data kept; and, from inside each container (runc exec), what it
// may not see or do.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readImageLayout } from "@moby-core/oci-image";
import { cleanEnv, runCommand } from "../../scripts/local-registry.js";
import { MOBY_INIT, RUNC, eventually, ok, skipContainers } from "../cli/moby-assembly.js";
import { alive, scratchDirectory } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";

const CONTAINED = ["events", "container-store", "image-store"] as const;
/** What each contained component requires, as moby.contained.yaml says. */
const REQUIRES: Record<string, string[]> = { events: [], "container-store": ["events"], "image-store": ["events"] };

interface Listed {
  name: string;
  state: string;
  health: string;
  pid: number;
  restarts: number;
  socket: string;
  containerId: string;
  image: string;
}

/** The node binary the images hold, at its host path. */
const NODE = execFileSync("readlink", ["-f", process.execPath], { encoding: "utf8" }).trim();

describe("the contained assembly (moby.contained.yaml)", { skip: skipContainers }, () => {
  const scratch = scratchDirectory("moby-contained-");
  const runDir = join(scratch.dir, "run");
  const initRunc = join(runDir, "runc");
  let init: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = "";

  const runc = (...args: string[]): string => execFileSync(RUNC!, ["--root", initRunc, ...args], { encoding: "utf8" });
  const containerPid = (name: string): number => (JSON.parse(runc("state", name)) as { pid: number }).pid;
  /** Waits for init's "assembly ready" (the first boot unpacks three images); fails with init's output. */
  const readyOrOutput = async (): Promise<void> => {
    try {
      await eventually(async () => output.includes("assembly ready"), "assembly ready", 300_000);
    } catch {
      assert.fail(`the contained assembly was not ready; init's output:\n${output}`);
    }
  };
  const components = async (): Promise<Listed[]> => JSON.parse((await ok(runDir, "components", "--json")).stdout) as Listed[];

  before(async () => {
    const built = await runCommand(process.execPath, ["--import", "tsx", "scripts/build-images.ts"], repoRoot, cleanEnv());
    assert.equal(built.status, 0, `npm run images failed:\n${built.stdout}\n${built.stderr}`);
    process.stdout.write(`# ${built.stdout.trim().split("\n").join("\n# ")}\n`);
    init = spawn(process.execPath, [MOBY_INIT, "--manifest", join(repoRoot, "moby.contained.yaml"), "--run-dir", runDir, "--log-format", "json"], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    init.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    init.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((resolve) => init!.once("exit", () => resolve()));
    await readyOrOutput();
  });

  after(async () => {
    // Everything started here ends, by pid and by container id, even when a test failed.
    if (init?.exitCode === null && init.signalCode === null) init.kill("SIGTERM");
    await exited;
    for (const root of [initRunc, join(runDir, "container-runtime", "runc")]) {
      let ids: string[] = [];
      try {
        ids = execFileSync(RUNC!, ["--root", root, "list", "-q"], { encoding: "utf8" }).split("\n").filter(Boolean);
      } catch {
        // no runc state there
      }
      for (const id of ids) execFileSync(RUNC!, ["--root", root, "delete", "--force", id], { stdio: "ignore" });
    }
    scratch.remove();
  });

  it("builds the same image from the same inputs", { timeout: 120_000 }, async () => {
    const again = await runCommand(
      process.execPath,
      ["--import", "tsx", "-e", `import { buildComponentImage } from "./packages/init/src/images/component-image.ts"; const i = await buildComponentImage("packages/events", ".", ${JSON.stringify(join(scratch.dir, "events-image"))}); console.log(i.manifestDigest);`],
      repoRoot,
      cleanEnv(),
    );
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout.trim(), readImageLayout(join(repoRoot, "images", "events")).manifestDigest);
  });

  it("runs each contained component in a container of its own, the runtime on the host", async () => {
    const listed = await components();
    const ids = runc("list", "-q").split("\n").filter(Boolean).sort();
    assert.deepEqual(ids, [...CONTAINED].sort());
    for (const name of CONTAINED) {
      const component = listed.find((c) => c.name === name)!;
      assert.equal(component.state, "running", name);
      assert.equal(component.containerId, name, "moby components shows its container");
      assert.equal(component.image, `moby-core/${name}:0.1.0@${readImageLayout(join(repoRoot, "images", name)).manifestDigest}`, "and its image");
      assert.equal(component.socket, join(runDir, "sockets", name, `${name}.sock`));
      assert.equal(readlinkSync(join(runDir, `${name}.sock`)), `sockets/${name}/${name}.sock`, "the run directory's <name>.sock leads there");
      // runc run is init's child; the component is its container's process, in its own pid namespace.
      const pid = containerPid(name);
      assert.notEqual(pid, component.pid);
      assert.notEqual(readlinkSync(`/proc/${pid}/ns/pid`), readlinkSync("/proc/self/ns/pid"));
    }
    const runtime = listed.find((c) => c.name === "container-runtime")!;
    assert.equal(runtime.socket, join(runDir, "container-runtime.sock"));
    assert.deepEqual([runtime.containerId, runtime.image], ["", ""], "a host process has no container");
  });

  it("runs the README's tour as written against it", { timeout: 300_000 }, async () => {
    const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
    const tour = /```sh tour\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(tour, "the README has a tour block");
    const ran = await runCommand("bash", ["-euo", "pipefail", "-c", tour], repoRoot, { ...cleanEnv(), MOBY_RUN_DIR: runDir });
    assert.equal(ran.status, 0, `the tour failed:\n${ran.stdout}\n${ran.stderr}`);
    assert.match(ran.stdout, /^hello from a container$/m, "moby run, with the image imported into the contained image-store");
    assert.match(ran.stdout, /\/components\/ready\s+\{"name":"container-runtime"/, "moby events, from the contained events");
    assert.match(ran.stdout, /container store open/, "moby component logs of a contained component");
    assert.match(ran.stdout, /"name": "events"/, "buf curl GetInfo through <run dir>/events.sock");
  });

  it("shows from inside each container what it cannot see or do", () => {
    const hostMount = readlinkSync("/proc/self/ns/mnt");
    for (const name of CONTAINED) {
      const others = CONTAINED.filter((other) => other !== name);
      const notRequired = [...others.filter((other) => !REQUIRES[name]!.includes(other)).map((other) => join(runDir, "sockets", other, `${other}.sock`)), join(runDir, "init.sock"), join(runDir, "container-runtime.sock")];
      const probe = `
        const fs = require("node:fs");
        const code = (f) => { try { f(); return "ok"; } catch (e) { return e.code; } };
        console.log(JSON.stringify({
          otherState: ${JSON.stringify(others.map((o) => join(runDir, "state", o)))}.map((d) => code(() => fs.readdirSync(d))),
          ownState: code(() => fs.writeFileSync(${JSON.stringify(join(runDir, "state", name, ".probe"))}, "x")),
          notRequired: ${JSON.stringify(notRequired)}.map((s) => fs.existsSync(s)),
          required: ${JSON.stringify(REQUIRES[name]!.map((r) => join(runDir, "sockets", r, `${r}.sock`)))}.map((s) => fs.existsSync(s)),
          runDir: fs.readdirSync(${JSON.stringify(runDir)}).sort(),
          writeRoot: code(() => fs.writeFileSync("/probe", "x")),
          writeApp: code(() => fs.writeFileSync("/app/probe", "x")),
          pid1: fs.readFileSync("/proc/1/cmdline", "utf8").split("\\0").filter(Boolean),
          sdkModules: fs.existsSync("/app/node_modules/@moby-core/sdk"),
          mountNs: fs.readlinkSync("/proc/self/ns/mnt"),
          capabilities: fs.readFileSync("/proc/self/status", "utf8").match(/CapEff:\\s*(\\w+)/)[1],
          noNewPrivs: fs.readFileSync("/proc/self/status", "utf8").match(/NoNewPrivs:\\s*(\\d)/)[1],
        }));`;
      const seen = JSON.parse(runc("exec", name, NODE, "-e", probe)) as Record<string, unknown>;
      assert.deepEqual(seen.otherState, others.map(() => "ENOENT"), `${name} cannot read another component's state directory`);
      assert.equal(seen.ownState, "ok", `${name} writes its own state directory`);
      assert.deepEqual(seen.notRequired, notRequired.map(() => false), `${name} sees no socket it does not require`);
      assert.ok((seen.required as boolean[]).every(Boolean), `${name} sees the sockets it requires`);
      assert.deepEqual(seen.runDir, ["sockets", "state"], `${name} sees only sockets/ and state/ of the run directory`);
      assert.equal(seen.writeRoot, "EROFS", `${name}'s root filesystem is read-only`);
      assert.equal(seen.writeApp, "EROFS", `${name}'s code is read-only`);
      assert.deepEqual(seen.pid1, [NODE, "--enable-source-maps", `/app/node_modules/@moby-core/${name}/bundle/moby-${name}.mjs`], `pid 1 of ${name}'s pid namespace is the component, bundled`);
      assert.equal(seen.sdkModules, false, `${name}'s image holds the SDK in its bundle, not as modules`);
      assert.notEqual(seen.mountNs, hostMount, `${name} has a mount namespace of its own`);
      assert.equal(seen.noNewPrivs, "1");
      if (name !== "image-store") assert.equal(seen.capabilities, "0000000000000000", `${name} has no capability`);
    }
  });

  it("restarts a contained component killed with kill -9, and its store keeps its data", { timeout: 120_000 }, async () => {
    await ok(runDir, "import", "--help"); // the CLI answers
    const rootfs = join(scratch.dir, "rootfs");
    execFileSync("bash", ["-c", `mkdir -p ${rootfs}/bin && cp /bin/busybox ${rootfs}/bin/ && ln -sf busybox ${rootfs}/bin/sh`]);
    const created = (await ok(runDir, "create", "--name", "durable", "--rootfs", rootfs, "sh", "-c", "true")).stdout.trim();
    for (const name of CONTAINED) {
      const before = (await components()).find((c) => c.name === name)!;
      const pid = containerPid(name);
      const killedAt = Date.now();
      process.kill(pid, "SIGKILL");
      await eventually(async () => {
        const now = (await components()).find((c) => c.name === name)!;
        return now.restarts === before.restarts + 1 && now.state === "running" && now.health === "serving";
      }, `${name} restarted and serving`, 60_000);
      process.stdout.write(`# ${name}: serving again ${Date.now() - killedAt} ms after kill -9\n`);
      assert.equal(alive(pid), false);
      assert.notEqual(containerPid(name), pid, "a new container process");
    }
    // Restarts reuse the unpacked images and leave no container behind.
    assert.deepEqual(runc("list", "-q").split("\n").filter(Boolean).sort(), [...CONTAINED].sort(), "one container per contained component, no leftover");
    assert.equal(readdirSync(join(runDir, "rootfs")).length, CONTAINED.length, "each image unpacked once, no tmp- directory");
    const listed = (await ok(runDir, "ps", "-a", "--format", "json")).stdout;
    assert.match(listed, new RegExp(created.slice(0, 12)), "container-store kept the record across its kill -9");
    const events = (await ok(runDir, "events", "--oldest", "--until", "now")).stdout;
    assert.match(events, /\/containers\/create/, "events kept what was published before its kill -9");
    await ok(runDir, "rm", "-f", created);
  });

  it("stops every container with init, in order", { timeout: 60_000 }, async () => {
    const pids = CONTAINED.map(containerPid);
    init!.kill("SIGTERM");
    await exited;
    assert.equal(init!.exitCode, 0, output.slice(-3000));
    assert.deepEqual(runc("list", "-q").split("\n").filter(Boolean), [], "no container is left");
    assert.deepEqual(pids.filter(alive), [], "no component process is left");
  });

  it("ends every contained component when its init is killed with kill -9", { timeout: 180_000 }, async () => {
    output = "";
    init = spawn(process.execPath, [MOBY_INIT, "--manifest", join(repoRoot, "moby.contained.yaml"), "--run-dir", runDir, "--log-format", "json"], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    init.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    init.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((resolve) => init!.once("exit", () => resolve()));
    await readyOrOutput();
    const pids = CONTAINED.map(containerPid);
    init.kill("SIGKILL");
    await exited;
    // Each reads end-of-file on init's pipe (fd 3, passed through runc), shuts down, and runc run removes its container.
    await eventually(async () => pids.every((pid) => !alive(pid)), "every contained component ended after its init", 60_000);
    await eventually(async () => runc("list", "-q").trim() === "", "no container left", 30_000);
  });
});
