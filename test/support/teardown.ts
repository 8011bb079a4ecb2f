/**
 * The end of a test suite, where each step (close the clients, stop the
 * nodes, stop the cluster, remove the files) runs even when an earlier one
 * threw or hung: node:test skips every later `after` hook of a suite once
 * one fails, and an awaited step that never settles would hold the rest
 * back for ever. Register one `after(() => teardown(...))` per suite.
 */

/** How long one step may take before the next ones run without it, in ms (longer than a graceful stop plus its SIGKILL). */
export const STEP_LIMIT_MS = 60_000;

/** One step of a teardown: what it ends (for the error message) and how. */
export type TeardownStep = readonly [what: string, run: () => unknown];

/**
 * Runs every step in order, each after the previous one settled or was
 * given up after limitMs; then throws one error naming every step that
 * failed, if any did.
 */
export async function teardown(steps: readonly TeardownStep[], limitMs = STEP_LIMIT_MS): Promise<void> {
  const failures: Error[] = [];
  for (const [what, run] of steps) {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`did not finish within ${limitMs} ms`)), limitMs);
    });
    try {
      await Promise.race([Promise.resolve().then(run), late]);
    } catch (error) {
      failures.push(new Error(`teardown: ${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    } finally {
      clearTimeout(timer);
    }
  }
  if (failures.length === 1) throw failures[0]!;
  if (failures.length > 1) throw new AggregateError(failures, failures.map((f) => f.message).join("; "));
}
