import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CliError } from "./init-client.js";
import { chooseLogsSource } from "./logs-command.js";

describe("chooseLogsSource", () => {
  it("picks the one side the name exists on", () => {
    assert.equal(chooseLogsSource("events", { component: true, container: false }), "component");
    assert.equal(chooseLogsSource("c-1", { component: false, container: true }), "container");
  });

  it("calls a name that is both ambiguous and names the flags", () => {
    assert.throws(
      () => chooseLogsSource("events", { component: true, container: true }),
      (error: unknown) =>
        error instanceof CliError && error.message === '"events" is both a component and a container: add --component or --container' && error.exitCode === 1,
    );
  });

  it("says neither exists", () => {
    assert.throws(() => chooseLogsSource("nope", { component: false, container: false }), { message: 'no component or container named "nope"' });
  });

  it("prefers a component when the runtime could not be asked, else reports why not", () => {
    const unknown = new CliError("cannot reach the container-runtime component at /run/moby/container-runtime.sock: it is not serving (ECONNREFUSED); see moby components");
    assert.equal(chooseLogsSource("events", { component: true, container: { unknown } }), "component");
    assert.throws(() => chooseLogsSource("c-1", { component: false, container: { unknown } }), (error) => error === unknown);
  });
});
