/**
 * The floor of the boot benchmark: N bare Node processes, each listening on
 * a unix socket and nothing else, spawned by the benchmark itself; ready when
 * the socket accepts a connection. A killed one is respawned by the
 * benchmark as soon as its exit is seen.
 */
import { BenchChild } from "../support/child-process.js";
import { socketAccepts, pollUntil } from "../support/socket-probe.js";
import { POLL_INTERVAL_MS, READY_TIMEOUT_MS, bootSpawned } from "./boot-peer.js";
import type { BootPeer } from "./boot-peer.js";

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
  boot: (n, dir) => bootSpawned(n, dir, spawnBare, ready),
};
