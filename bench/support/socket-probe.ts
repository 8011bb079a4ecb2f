/**
 * Readiness of a unix socket: something accepts connections on it.
 */
import { connect } from "node:net";

/** Resolves true when a connection to the unix socket at path is accepted, false on any error. */
export function socketAccepts(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Sleeps for ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls ready every intervalMs until it resolves true; rejects with a message
 * naming what after timeoutMs, or at once when abandon() returns a reason.
 */
export async function pollUntil(
  what: string,
  ready: () => Promise<boolean>,
  options: { intervalMs: number; timeoutMs: number; abandon?: () => string | undefined },
): Promise<void> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const reason = options.abandon?.();
    if (reason !== undefined) throw new Error(`${what}: ${reason}`);
    if (await ready()) return;
    if (performance.now() > deadline) throw new Error(`${what}: not ready after ${options.timeoutMs} ms`);
    await sleep(options.intervalMs);
  }
}
