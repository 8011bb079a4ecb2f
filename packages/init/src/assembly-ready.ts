/**
 * The moment an assembly is ready: every component declared in the manifest
 * serving for the first time since boot, announced once.
 */
import type { Supervisor } from "./supervisor/supervisor.js";

/** Calls onReady once, the first time every component the supervisor runs is ready (at once for none). */
export function whenAssemblyReady(supervisor: Pick<Supervisor, "runners" | "onChange">, onReady: () => void): void {
  let announced = false;
  const check = () => {
    if (announced || !supervisor.runners.every((runner) => runner.ready)) return;
    announced = true;
    stop();
    onReady();
  };
  const stop = supervisor.onChange(check);
  check();
}

/** The line init logs when the assembly is ready: how many serve, how long it took, and how to reach them. */
export function readyMessage(components: number, elapsedMs: number, runDir: string): string {
  const seconds = (elapsedMs / 1000).toFixed(1);
  return `assembly ready: ${components} component${components === 1 ? "" : "s"} serving after ${seconds} s; run dir ${runDir}; list them with: moby --run-dir ${runDir} components`;
}
