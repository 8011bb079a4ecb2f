/**
 * N SDK components started by the benchmark itself, without moby-init: the
 * cost of the components alone. Ready when the socket accepts and
 * grpc.health.v1 Check answers SERVING, the check init makes. A killed one
 * is respawned by the benchmark as soon as its exit is seen.
 */
import { Health, HealthCheckResponse_ServingStatus } from "@moby-core/grpc-health-api/v1";
import { dialSocket } from "@moby-core/sdk";
import { BenchChild } from "../support/child-process.js";
import { socketAccepts, pollUntil } from "../support/socket-probe.js";
import { IDLE_COMPONENT, POLL_INTERVAL_MS, READY_TIMEOUT_MS, bootSpawned } from "./boot-peer.js";
import type { BootPeer } from "./boot-peer.js";

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
  boot: (n, dir) => bootSpawned(n, dir, spawnComponent, ready),
};
