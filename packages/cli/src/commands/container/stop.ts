/**
 * `moby stop ID...`: stops containers gracefully, as docker stop: SIGTERM
 * to the container's main process, then, if it has not exited after -t
 * seconds (default 10), SIGKILL; waits until it has exited.
 */
import type { Command } from "commander";
import { Code } from "@moby-core/sdk";
import { SIGKILL, SIGTERM, collectContainerId, parseStopSeconds } from "../../container-args.js";
import type { ContainerServices } from "../../container-client.js";
import { hasCode, withContainerServices } from "../../container-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { forEachContainer } from "../shared.js";
import type { SocketOf } from "../shared.js";

/** docker stop's default grace period, in seconds. */
export const DEFAULT_STOP_SECONDS = 10;

/** Sends signal to the task of id; false when it has exited already (nothing to signal). */
async function signalTask(services: ContainerServices, id: string, signal: number): Promise<boolean> {
  try {
    await (await services.runtime()).killTask({ containerId: id, signal });
    return true;
  } catch (error) {
    if (hasCode(error, Code.FailedPrecondition)) return false;
    throw error;
  }
}

/** Waits until the task of id has exited, or seconds have passed; true when it exited. */
async function exitedWithin(services: ContainerServices, id: string, seconds: number): Promise<boolean> {
  try {
    await (await services.runtimeWaits()).waitTask({ containerId: id }, { signal: AbortSignal.timeout(seconds * 1_000) });
    return true;
  } catch (error) {
    if (hasCode(error, Code.Canceled) || hasCode(error, Code.DeadlineExceeded)) return false;
    throw error;
  }
}

/** Stops the container id: SIGTERM, up to seconds for it to exit, then SIGKILL and wait. Returns "ID" (the line to print). */
export async function stopContainer(services: ContainerServices, id: string, seconds: number): Promise<void> {
  if (!(await signalTask(services, id, SIGTERM))) return;
  if (await exitedWithin(services, id, seconds)) return;
  await signalTask(services, id, SIGKILL);
  await (await services.runtimeWaits()).waitTask({ containerId: id });
}

/** `moby stop ID...`: each in turn, printing each id stopped; returns the exit code. */
export function stopCommand(initSocket: string, ids: string[], options: { seconds: number }, write: Write = writeStdout): Promise<number> {
  return withContainerServices(initSocket, (services) => forEachContainer(ids, (id) => stopContainer(services, id, options.seconds), write));
}

/** Adds `stop` to program. */
export function registerStop(program: Command, socketOf: SocketOf): void {
  program
    .command("stop")
    .description("stop containers: SIGTERM, then SIGKILL after the grace period; print each id once it has exited")
    .argument("<id...>", "the container ids", collectContainerId)
    .option("-t, --time <seconds>", `seconds to wait after SIGTERM before SIGKILL (default: ${DEFAULT_STOP_SECONDS})`, parseStopSeconds, DEFAULT_STOP_SECONDS)
    .action(async (ids: string[], options: { time: number }, command: Command) => {
      process.exitCode = await stopCommand(socketOf(command), ids, { seconds: options.time });
    });
}
