/**
 * N SDK components started by the benchmark itself, without moby-init: the
 * cost of the components alone. Ready when the socket accepts and
 * grpc.health.v1 Check answers SERVING, the check init makes. A killed one
 * is respawned by the benchmark as soon as its exit is seen.
 */
import { join } from "node:path";
import { Health, HealthCheckResponse_ServingStatus } from "@moby-core/grpc-health-api/v1";
import { dialSocket } from "@moby-core/sdk";
import { BenchChild, stopAll } from "../support/child-process.js";
import { socketAccepts, pollUntil } from "../support/socket-probe.js";
import { IDLE_COMPONENT, POLL_INTERVAL_MS, READY_TIMEOUT_MS, componentNames } from "./boot-peer.js";
import type { BootPeer, Booted } from "./boot-peer.js";

/** Starts the idle component as name on socketPath. */
function spawnComponent(name: string, socketPath: string): BenchChild {
  return BenchChild.node(`component ${name}`, IDLE_COMPONENT, { env: { MOBY_SOCKET: socketPath, MOBY_COMPONENT_NAME: name } });
}

/** Resolves once the component on socketPath accepts and reports SERVING. */
async function ready(child: BenchChild, socketPath: string): Promise<void> {
  const connection = dialSocket(socketPath, { retry: false, timeoutMs: 2_000 });
  const health = connection.client(Health);
  const serving = async () => {
    if (!(await socketAccepts(socketPath))) return false;
    try {
      return (await health.check({ service: "" })).status === HealthCheckResponse_ServingStatus.SERVING;
    } catch {
      return false;
    }
  };
  try {
    await pollUntil(`${child.label} on ${socketPath}`, serving, {
      intervalMs: POLL_INTERVAL_MS,
      timeoutMs: READY_TIMEOUT_MS,
      abandon: () => child.deadReason(),
    });
  } finally {
    connection.close();
  }
}

/** N idle SDK components, spawned directly. */
export const directComponents: BootPeer = {
  name: "sdk-direct",
  description: "N idle SDK components (bench/init/idle-component.mjs) spawned directly; ready when health Check is SERVING",
  async boot(n, dir) {
    const names = componentNames(n);
    const sockets = names.map((name) => join(dir, `${name}.sock`));
    const started = performance.now();
    const children = names.map((name, i) => spawnComponent(name, sockets[i]!));
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
        children[0] = spawnComponent(names[0]!, sockets[0]!);
        await ready(children[0], sockets[0]!);
        return performance.now() - started;
      },
      stop: () => stopAll(children),
    };
    return booted;
  },
};
