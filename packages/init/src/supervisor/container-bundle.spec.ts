import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bundleConfig, requiredSocketMount } from "./container-bundle.js";
import type { BundleInput } from "./container-bundle.js";

const input: BundleInput = {
  name: "events",
  container: { image: "/images/events", ref: "", network: "none", capabilities: [], mounts: [] },
  image: { digest: "sha256:ab", refName: "moby-core/events:1", rootfs: "/run/moby/rootfs/ab", config: { entrypoint: ["/usr/bin/node", "/app/main.js"], cmd: [], env: [], workingDir: "/app", labels: {} } },
  args: ["/usr/bin/node", "/app/main.js"],
  env: ["MOBY_SOCKET=/run/moby/sockets/events/events.sock"],
  stateDir: "/run/moby/state/events",
  socketDir: "/run/moby/sockets/events",
  requiredSockets: [],
};

interface Config {
  process: { capabilities: Record<string, string[]>; noNewPrivileges: boolean; cwd: string; args: string[]; env: string[] };
  root: { path: string; readonly: boolean };
  mounts: { destination: string; type: string; source: string; options?: string[] }[];
  linux: { namespaces: { type: string }[] };
}

const configOf = (overrides: Partial<BundleInput> = {}): Config => bundleConfig({ ...input, ...overrides }) as unknown as Config;

describe("bundleConfig", () => {
  it("confines by default: read-only root, no capability, no new privileges, its own namespaces", () => {
    const config = configOf();
    assert.deepEqual(config.root, { path: "/run/moby/rootfs/ab", readonly: true });
    assert.equal(config.process.noNewPrivileges, true);
    for (const set of ["bounding", "effective", "permitted", "inheritable", "ambient"]) assert.deepEqual(config.process.capabilities[set], [], set);
    assert.deepEqual(config.linux.namespaces.map((n) => n.type).sort(), ["ipc", "mount", "network", "pid", "uts"]);
    assert.equal(config.process.cwd, "/app");
    assert.deepEqual(config.process.args, input.args);
  });

  it("binds, at their host paths, only its state directory, its socket directory and what it requires", () => {
    const config = configOf({ requiredSockets: ["/run/moby/sockets/store", "/run/moby/init.sock"] });
    const binds = config.mounts.filter((m) => m.type === "bind").map((m) => `${m.source}->${m.destination}:${m.options!.includes("ro") ? "ro" : "rw"}`);
    assert.deepEqual(binds, [
      "/run/moby/state/events->/run/moby/state/events:rw",
      "/run/moby/sockets/events->/run/moby/sockets/events:rw",
      "/run/moby/sockets/store->/run/moby/sockets/store:rw",
      "/run/moby/init.sock->/run/moby/init.sock:rw",
    ]);
    assert.ok(config.mounts.some((m) => m.destination === "/tmp" && m.type === "tmpfs"), "a writable /tmp of its own");
  });

  it("adds what the manifest names: capabilities, the host network, extra mounts read-only unless said", () => {
    const config = configOf({
      container: { ...input.container, network: "host", capabilities: ["CAP_CHOWN"], mounts: [{ source: "/srv/a", target: "/a", readonly: true }, { source: "/srv/b", target: "/srv/b", readonly: false }] },
    });
    assert.deepEqual(config.process.capabilities.effective, ["CAP_CHOWN"]);
    assert.deepEqual(config.process.capabilities.ambient, []);
    assert.ok(!config.linux.namespaces.some((n) => n.type === "network"));
    const extra = config.mounts.slice(-2).map((m) => [m.source, m.destination, m.options!.includes("ro")]);
    assert.deepEqual(extra, [["/srv/a", "/a", true], ["/srv/b", "/srv/b", false]]);
  });

  it("mounts a required socket's own directory, or the socket alone when it lies in the run directory", () => {
    assert.equal(requiredSocketMount("/run/moby/sockets/store/store.sock", "/run/moby"), "/run/moby/sockets/store");
    assert.equal(requiredSocketMount("/run/moby/container-runtime.sock", "/run/moby"), "/run/moby/container-runtime.sock");
  });
});
