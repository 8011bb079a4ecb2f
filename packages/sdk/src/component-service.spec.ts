import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { apiVersionOf } from "./component-service.js";
import { endpointVariable } from "./env.js";

describe("apiVersionOf", () => {
  it("takes the version element of the service's package", () => {
    assert.equal(apiVersionOf("moby.container.store.v1.ContainerStoreService"), "v1");
    assert.equal(apiVersionOf("grpc.health.v1.Health"), "v1");
    assert.equal(apiVersionOf("foo.v2beta1.Bar"), "v2beta1");
    assert.equal(apiVersionOf("foo.bar.Baz"), "");
    assert.equal(apiVersionOf("Baz"), "");
  });
});

describe("endpointVariable", () => {
  it("names the variable that holds a required component's socket", () => {
    assert.equal(endpointVariable("container-store"), "MOBY_ENDPOINT_CONTAINER_STORE");
    assert.equal(endpointVariable("events"), "MOBY_ENDPOINT_EVENTS");
  });
});
