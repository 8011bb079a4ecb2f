import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { COMPONENT_NAME_PATTERN, manifestValidator, SERVICE_NAME_PATTERN } from "./manifest-schema.js";

describe("manifestValidator", () => {
  it("accepts a minimal manifest and rejects unknown keys, with every error", () => {
    const validate = manifestValidator();
    assert.equal(validate({ components: { a: { command: ["x"] } } }), true);
    assert.equal(validate({ components: { a: { command: ["x"], helth: {} } }, extra: 1 }), false);
    assert.deepEqual(
      validate.errors?.map((error) => [error.instancePath, error.keyword]),
      [
        ["", "additionalProperties"],
        ["/components/a", "additionalProperties"],
      ],
    );
  });

  it("checks durations with the duration format", () => {
    const validate = manifestValidator();
    const health = (interval: unknown) => ({ components: { a: { command: ["x"], health: { interval } } } });
    assert.equal(validate(health("1m30s")), true);
    assert.equal(validate(health("5 seconds")), false);
    assert.equal(validate(health("0s")), false);
    assert.equal(validate(health(5)), false);
  });
});

describe("name patterns", () => {
  it("match component and service names", () => {
    const component = new RegExp(COMPONENT_NAME_PATTERN);
    for (const name of ["a", "container-store", "x1", "a".repeat(63)]) assert.ok(component.test(name), name);
    for (const name of ["", "A", "1a", "-a", "a_b", "a.b", "a".repeat(64)]) assert.ok(!component.test(name), name);
    const service = new RegExp(SERVICE_NAME_PATTERN);
    for (const name of ["moby.events.v1.EventsService", "grpc.health.v1.Health", "a.B"]) assert.ok(service.test(name), name);
    for (const name of ["Events", "moby..Events", ".a.B", "a.B.", "a-b.C"]) assert.ok(!service.test(name), name);
  });
});
