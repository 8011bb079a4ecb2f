/**
 * `moby metrics`: the assembly's Prometheus metrics, as init's endpoint
 * (--metrics-address) serves them, read through init's supervisor API so
 * it works whether or not the endpoint is on. The text is printed as it
 * comes (Prometheus text format 0.0.4): pipe it to grep, or to
 * `promtool check metrics`.
 */
import type { Command } from "commander";
import { withSupervisor } from "../../init-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import type { SocketOf } from "../shared.js";

/** `moby metrics`: writes the assembly's exposition; a CliError when init does not answer. */
export async function metricsCommand(initSocket: string, write: Write = writeStdout): Promise<void> {
  const { text } = await withSupervisor(initSocket, (supervisor) => supervisor.getAssemblyMetrics({}));
  write(text);
}

/** Adds `metrics` to program. */
export function registerMetrics(program: Command, socketOf: SocketOf): void {
  program
    .command("metrics")
    .description("print the Prometheus metrics of init and every component, each sample labelled with its component")
    .action((_options: unknown, command: Command) => metricsCommand(socketOf(command)));
}
