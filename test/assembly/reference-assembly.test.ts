// The reference assembly booted for real from each reference manifest,
// moby.yaml and moby.contained.yaml (events, container-store and image-store
// in runc containers, from images built once per test run), by one
// definition: what moby components lists, each component's captured output,
// kill -9 of each component and its restart with the stores' data kept,
// the stop with init, and every component ending when init is killed with
// kill -9. For the contained manifest also: the images are reproducible, and
// from inside each container (runc exec), what it may not see or do.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readImageLayout } from "@moby-core/oci-image";
import { cleanEnv, runCommand } from "../../scripts/local-registry.js";
import { RUNC, eventually, ok } from "../cli/moby-assembly.js";
import { alive, scratchDirectory } from "../support/component-process.js";
import { imageLayout } from "../support/component-images.js";
import { repoRoot } from "../support/contract-copy.js";
import { REFERENCE_MANIFESTS, ReferenceAssembly, initRuncRoot, runcContainers } from "../support/reference-assembly.js";

/** The node binary the images hold, at its host path. */
const NODE = execFileSync("readlink", ["-f", process.execPath], { encoding: "utf8" }).trim();

for (const manifest of REFERENCE_MANIFESTS) {
  const noContainer = manifest.contained.length === 0 ? `${manifest.file} runs every component as a host process: no image, no container to look into` : false;

  describe(`the reference assembly (${manifest.file})`, { skip: manifest.skip }, () => {
    const scratch = scratchDirectory("moby-reference-");
    const assembly = new ReferenceAssembly(manifest, scratch.dir);
    const runDir = assembly.runDir;
    const runc = (...args: string[]): string => execFileSync(RUNC!, ["--root", initRuncRoot(runDir), ...args], { encoding: "utf8" });

    before(() => assembly.boot());

    after(async () => {
      try {
        await assembly.cleanup();
      } finally {
        scratch.remove();
      }
    });

    it("builds the same image from the same inputs", { skip: noContainer, timeout: 120_000 }, async () => {
      const again = await runCommand(
        process.execPath,
        ["--import", "tsx", "-e", `import { buildComponentImage } from "./packages/init/src/images/component-image.ts"; const i = await buildComponentImage("packages/events", ".", ${JSON.stringify(join(scratch.dir, "events-image"))}); console.log(i.manifestDigest);`],
        repoRoot,
        cleanEnv(),
      );
      assert.equal(again.status, 0, again.stderr);
      assert.equal(again.stdout.trim(), readImageLayout(imageLayout("events")).manifestDigest);
    });

    it("lists every component: a contained one with its container and image, a host one as a process", async () => {
      const listed = await assembly.components();
      assert.deepEqual(listed.map((c) => c.name).sort(), ["init", ...manifest.components].sort(), `every component ${manifest.file} runs`);
      const order = listed.map((c) => c.name);
      for (const name of manifest.components) {
        for (const required of manifest.requires[name]!) assert.ok(order.indexOf(required) < order.indexOf(name), `${required}, which ${name} requires, is listed (started) first`);
      }
      assert.deepEqual(runcContainers(initRuncRoot(runDir)).sort(), [...manifest.contained].sort(), "one runc container per contained component");
      for (const name of manifest.components) {
        const component = listed.find((c) => c.name === name)!;
        assert.deepEqual([component.state, component.health], ["running", "serving"], name);
        if (!manifest.contained.includes(name)) {
          assert.equal(component.socket, join(runDir, `${name}.sock`));
          assert.deepEqual([component.containerId, component.image], ["", ""], `${name}: a host process has no container`);
          assert.equal(await assembly.componentPid(name), component.pid);
          continue;
        }
        assert.equal(component.containerId, name, "moby components shows its container");
        assert.equal(component.image, `moby-core/${name}:0.1.0@${readImageLayout(imageLayout(name)).manifestDigest}`, "and its image");
        assert.equal(component.socket, join(runDir, "sockets", name, `${name}.sock`));
        assert.equal(readlinkSync(join(runDir, `${name}.sock`)), `sockets/${name}/${name}.sock`, "the run directory's <name>.sock leads there");
        // runc run is init's child; the component is its container's process, in its own pid namespace.
        const pid = await assembly.componentPid(name);
        assert.notEqual(pid, component.pid);
        assert.notEqual(readlinkSync(`/proc/${pid}/ns/pid`), readlinkSync("/proc/self/ns/pid"));
      }
    });

    it("keeps each component's output for moby component logs", async () => {
      for (const name of manifest.components) {
        const logs = (await ok(runDir, "component", "logs", name)).stdout;
        const lines = logs.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as { msg?: string; component?: string });
        assert.ok(lines.some((line) => line.msg === "serving" && line.component === name), `a "serving" line from ${name} in:\n${logs}`);
        const tail = (await ok(runDir, "component", "logs", name, "--tail", "1")).stdout;
        assert.equal(tail, `${logs.trimEnd().split("\n").at(-1)}\n`, "--tail 1 is the last line");
      }
    });

    it("shows from inside each container what it cannot see or do", { skip: noContainer }, () => {
      const contained = manifest.contained;
      const hostMount = readlinkSync("/proc/self/ns/mnt");
      const hostNet = readlinkSync("/proc/self/ns/net");
      for (const name of contained) {
        const others = contained.filter((other) => other !== name);
        const notRequired = [...others.filter((other) => !manifest.requires[name]!.includes(other)).map((other) => join(runDir, "sockets", other, `${other}.sock`)), join(runDir, "init.sock"), join(runDir, "container-runtime.sock")];
        const probe = `
          const fs = require("node:fs");
          const code = (f) => { try { f(); return "ok"; } catch (e) { return e.code; } };
          console.log(JSON.stringify({
            otherState: ${JSON.stringify(others.map((o) => join(runDir, "state", o)))}.map((d) => code(() => fs.readdirSync(d))),
            ownState: code(() => fs.writeFileSync(${JSON.stringify(join(runDir, "state", name, ".probe"))}, "x")),
            notRequired: ${JSON.stringify(notRequired)}.map((s) => fs.existsSync(s)),
            required: ${JSON.stringify(manifest.requires[name]!.map((r) => join(runDir, "sockets", r, `${r}.sock`)))}.map((s) => fs.existsSync(s)),
            runDir: fs.readdirSync(${JSON.stringify(runDir)}).sort(),
            writeRoot: code(() => fs.writeFileSync("/probe", "x")),
            writeApp: code(() => fs.writeFileSync("/app/probe", "x")),
            pid1: fs.readFileSync("/proc/1/cmdline", "utf8").split("\\0").filter(Boolean),
            sdkModules: fs.existsSync("/app/node_modules/@moby-core/sdk"),
            mountNs: fs.readlinkSync("/proc/self/ns/mnt"),
            netNs: fs.readlinkSync("/proc/self/ns/net"),
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
        // The image-store pulls from registries, so the manifest gives it the host's network; the others have none.
        if (name === "image-store") assert.equal(seen.netNs, hostNet, "the image-store shares the host's network");
        else assert.notEqual(seen.netNs, hostNet, `${name} has a network namespace of its own`);
        assert.equal(seen.noNewPrivs, "1");
        if (name !== "image-store") assert.equal(seen.capabilities, "0000000000000000", `${name} has no capability`);
      }
    });

    it("restarts, stops and starts each component with moby component", { timeout: 180_000 }, async () => {
      for (const name of manifest.components) {
        const before = await assembly.component(name);
        const pid = await assembly.componentPid(name);
        const restarted = await ok(runDir, "component", "restart", name, "--timeout", "10s");
        assert.match(restarted.stdout, new RegExp(`^restarted ${name} \\(pid \\d+\\)\\n$`));
        await eventually(async () => {
          const now = await assembly.component(name);
          return now.restarts === before.restarts + 1 && now.state === "running" && now.health === "serving";
        }, `${name} serving after moby component restart`, 60_000);
        assert.equal(alive(pid), false, `${name}'s old process ended`);
        assert.notEqual(await assembly.componentPid(name), pid, "a new process");
      }
      if (manifest.contained.length > 0) {
        // Restarts reuse the unpacked images and leave no container behind.
        assert.deepEqual(runcContainers(initRuncRoot(runDir)).sort(), [...manifest.contained].sort(), "one container per contained component, no leftover");
        assert.equal(readdirSync(join(runDir, "rootfs")).length, manifest.contained.length, "each image unpacked once, no tmp- directory");
      }
      const stopped = await ok(runDir, "component", "stop", "container-store");
      assert.equal(stopped.stdout, "stopped container-store\n");
      const down = await assembly.component("container-store");
      assert.deepEqual([down.state, down.pid], ["stopped", 0]);
      if (manifest.contained.includes("container-store")) assert.ok(!runcContainers(initRuncRoot(runDir)).includes("container-store"), "its container is removed");
      assert.match((await ok(runDir, "component", "start", "container-store")).stdout, /^started container-store \(pid \d+\)\n$/);
      await eventually(async () => {
        const up = await assembly.component("container-store");
        return up.state === "running" && up.health === "serving";
      }, "container-store serving after moby component start", 60_000);
      assert.equal((await ok(runDir, "ps", "-a", "--format", "json")).code, 0, "the container commands work again");
    });

    it("restarts each component killed with kill -9, and the stores keep their data", { timeout: 180_000 }, async () => {
      const rootfs = join(scratch.dir, "rootfs");
      execFileSync("bash", ["-c", `mkdir -p ${rootfs}/bin && cp /bin/busybox ${rootfs}/bin/ && ln -sf busybox ${rootfs}/bin/sh`]);
      const created = (await ok(runDir, "create", "--name", "durable", "--rootfs", rootfs, "sh", "-c", "true")).stdout.trim();
      const imported = await runCommand("bash", ["-euo", "pipefail", "-c", `tar -C ${rootfs} -c . | node packages/cli/bin/moby.js --run-dir ${runDir} import - durable/busybox:1`], repoRoot, cleanEnv());
      assert.equal(imported.status, 0, imported.stderr);
      for (const name of manifest.components) {
        const before = await assembly.component(name);
        const pid = await assembly.componentPid(name);
        const killedAt = Date.now();
        process.kill(pid, "SIGKILL");
        await eventually(async () => {
          const now = await assembly.component(name);
          return now.restarts === before.restarts + 1 && now.state === "running" && now.health === "serving";
        }, `${name} restarted and serving`, 60_000);
        process.stdout.write(`# ${manifest.file} ${name}: serving again ${Date.now() - killedAt} ms after kill -9\n`);
        assert.equal(alive(pid), false);
        assert.notEqual(await assembly.componentPid(name), pid, "a new process");
      }
      const listed = (await ok(runDir, "ps", "-a", "--format", "json")).stdout;
      assert.match(listed, new RegExp(created.slice(0, 12)), "container-store kept the record across its kill -9");
      assert.match((await ok(runDir, "images")).stdout, /^durable\/busybox\s+1\s/m, "image-store kept the image across its kill -9");
      const events = (await ok(runDir, "events", "--oldest", "--until", "now")).stdout;
      assert.match(events, /\/containers\/create/, "events kept what was published before its kill -9");
      assert.match((await ok(runDir, "run", "--rm", "durable/busybox:1", "sh", "-c", "echo still runs")).stdout, /^still runs$/m, "the restarted components run a container from the kept image");
      await ok(runDir, "rm", "-f", created);
      await ok(runDir, "rmi", "durable/busybox:1");
    });

    it("stops every component with init: no process or container is left", { timeout: 60_000 }, async () => {
      const pids = await Promise.all(manifest.components.map((name) => assembly.componentPid(name)));
      await assembly.stopCleanly();
      assert.deepEqual(runcContainers(initRuncRoot(runDir)), [], "no container is left");
      assert.deepEqual(pids.filter(alive), [], "no component process is left");
    });

    it("ends every component when its init is killed with kill -9", { timeout: 360_000 }, async () => {
      await assembly.boot();
      const pids = await Promise.all(manifest.components.map((name) => assembly.componentPid(name)));
      await assembly.signalInit("SIGKILL");
      // Each reads end-of-file on init's pipe (fd 3, passed through runc run for a contained one) and shuts down.
      await eventually(async () => pids.every((pid) => !alive(pid)), "every component ended after its init", 60_000);
      await eventually(async () => runcContainers(initRuncRoot(runDir)).length === 0, "no container left", 30_000);
    });
  });
}
