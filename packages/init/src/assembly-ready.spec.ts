import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readyMessage, whenAssemblyReady } from "./assembly-ready.js";

/** A supervisor's runners and change listeners, driven by hand. */
function fakeSupervisor(count: number) {
  const runners = Array.from({ length: count }, () => ({ ready: false }));
  const listeners = new Set<() => void>();
  return {
    runners,
    onChange(listener: () => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    set(index: number, ready: boolean) {
      runners[index]!.ready = ready;
      for (const listener of [...listeners]) listener();
    },
    listeners,
  };
}

describe("whenAssemblyReady", () => {
  it("announces once, when the last component becomes ready, and stops listening", () => {
    const supervisor = fakeSupervisor(2);
    let calls = 0;
    whenAssemblyReady(supervisor as never, () => calls++);
    supervisor.set(0, true);
    assert.equal(calls, 0);
    supervisor.set(1, true);
    assert.equal(calls, 1);
    supervisor.set(1, false);
    supervisor.set(1, true);
    assert.equal(calls, 1, "a restart later is not a new boot");
    assert.equal(supervisor.listeners.size, 0);
  });

  it("announces at once for a manifest with no components", () => {
    let calls = 0;
    whenAssemblyReady(fakeSupervisor(0) as never, () => calls++);
    assert.equal(calls, 1);
  });
});

describe("readyMessage", () => {
  it("says how many serve, after how long, and how to reach them", () => {
    assert.equal(
      readyMessage(3, 1234, "/run/moby"),
      "assembly ready: 3 components serving after 1.2 s; run dir /run/moby; list them with: moby --run-dir /run/moby components",
    );
    assert.match(readyMessage(1, 500, "/x"), /^assembly ready: 1 component serving/);
  });
});
