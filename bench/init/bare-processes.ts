/**
 * The floor of the boot benchmark: N bare Node processes, each listening on
 * a unix socket and nothing else, spawned by the benchmark itself; ready when
 * the socket accepts a connection. A killed one is respawned by the
 * benchmark as soon as its exit is seen.
 */
import { join } from "node:path";
import { BenchChild, stopAll } from "../support/child-process.js";
import { socketAccepts, pollUntil } from "../support/socket-probe.js";
import { POLL_INTERVAL_MS, READY_TIMEOUT_MS, componentNames } from "./boot-peer.js";
import type { BootPeer, Booted } from "./boot-peer.js";

/** The bare process: remove a stale socket file, listen on $MOBY_SOCKET. */
const LISTENER = `const fs = require("node:fs"); const p = process.env.MOBY_SOCKET;
try { fs.unlinkSync(p); } catch {}
require("node:net").createServer((s) => s.destroy()).listen(p);`;

/** Starts one bare process listening on socketPath. */
function spawnBare(name: string, socketPath: string): BenchChild {
  return BenchChild.eval(`bare ${name}`, LISTENER, { MOBY_SOCKET: socketPath, MOBY_COMPONENT_NAME: name });
}

/** Resolves once child accepts on socketPath. */
function ready(child: BenchChild, socketPath: string): Promise<void> {
  return pollUntil(`${child.label} on ${socketPath}`, () => socketAccepts(socketPath), {
    intervalMs: POLL_INTERVAL_MS,
    timeoutMs: READY_TIMEOUT_MS,
    abandon: () => child.deadReason(),
  });
}

/** N bare `node -e` listeners. */
export const bareProcesses: BootPeer = {
  name: "bare-node",
  description: "N `node -e` processes that only listen on a unix socket; ready when it accepts",
  async boot(n, dir) {
    const names = componentNames(n);
    const sockets = names.map((name) => join(dir, `${name}.sock`));
    const started = performance.now();
    const children = names.map((name, i) => spawnBare(name, sockets[i]!));
    try {
      await Promise.all(children.map((child, i) => ready(child, sockets[i]!)));
    } catch (error) {
      await stopAll(children, "SIGKILL");
      throw error;
    }
    const bootMs = performance.now() - started;
    const booted: Booted = {
      bootMs,
      async restartOne() {
        const victim = children[0]!;
        const started = performance.now();
        victim.process.kill("SIGKILL");
        await victim.exited;
        children[0] = spawnBare(names[0]!, sockets[0]!);
        await ready(children[0], sockets[0]!);
        return performance.now() - started;
      },
      stop: () => stopAll(children),
    };
    return booted;
  },
};
