// UpdateTaskRequest.resources: each limit's rule, INVALID_ARGUMENT naming
// the field, and the `runc update` flags of valid limits.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { ComponentError } from "@moby-core/sdk";
import { TaskResourcesSchema } from "@moby-core/container-runtime-api/v1";
import type { TaskResources } from "@moby-core/container-runtime-api/v1";
import { runcUpdateFlags } from "./task-resources.js";

const MiB = 1024n * 1024n;
const resources = (init: Partial<Omit<TaskResources, "$typeName">>) => create(TaskResourcesSchema, init);

function refusal(init: Partial<Omit<TaskResources, "$typeName">> | undefined): string {
  try {
    runcUpdateFlags(init === undefined ? undefined : resources(init));
  } catch (error) {
    assert.ok(error instanceof ComponentError);
    assert.equal(error.code, Code.InvalidArgument, error.message);
    return error.message;
  }
  assert.fail("accepted");
}

describe("UpdateTask resources", () => {
  it("turns the set limits into runc update flags, in a fixed order", () => {
    assert.deepEqual(runcUpdateFlags(resources({ pidsLimit: 100n, cpuShares: 512n })), ["--cpu-share", "512", "--pids-limit", "100"]);
    assert.deepEqual(runcUpdateFlags(resources({ cpuQuota: 150000n, cpuPeriod: 100000n, cpusetCpus: "0-1,3" })), [
      "--cpu-period", "100000", "--cpu-quota", "150000", "--cpuset-cpus", "0-1,3",
    ]);
    assert.deepEqual(runcUpdateFlags(resources({ memoryLimit: 64n * MiB, memorySwap: 128n * MiB, memoryReservation: 32n * MiB })), [
      "--memory", String(64n * MiB), "--memory-reservation", String(32n * MiB), "--memory-swap", String(128n * MiB),
    ]);
    assert.deepEqual(runcUpdateFlags(resources({ memoryLimit: -1n, memorySwap: -1n, pidsLimit: -1n, cpuQuota: -1n })), [
      "--cpu-quota", "-1", "--memory", "-1", "--memory-swap", "-1", "--pids-limit", "-1",
    ]);
  });

  it("refuses a request that sets nothing, and each limit outside its range, naming the field", () => {
    assert.match(refusal(undefined), /^resources: set at least one limit/);
    assert.match(refusal({}), /^resources: /);
    assert.match(refusal({ cpuShares: 1n }), /^resources\.cpu_shares: 1 is outside 2 to 262144/);
    assert.match(refusal({ cpuShares: 262145n }), /^resources\.cpu_shares: /);
    assert.match(refusal({ cpuPeriod: 999n }), /^resources\.cpu_period: /);
    assert.match(refusal({ cpuPeriod: 1_000_001n }), /^resources\.cpu_period: /);
    assert.match(refusal({ cpuQuota: 999n }), /^resources\.cpu_quota: 999 is not a limit: give 1000 µs or more, or -1/);
    assert.match(refusal({ cpuQuota: -2n }), /^resources\.cpu_quota: /);
    assert.match(refusal({ memoryLimit: 6n * MiB - 1n }), /^resources\.memory_limit: .*6 MiB/);
    assert.match(refusal({ memoryReservation: -5n }), /^resources\.memory_reservation: /);
    assert.match(refusal({ memoryLimit: 64n * MiB, memoryReservation: 65n * MiB }), /^resources\.memory_reservation: .* above memory_limit/);
    assert.match(refusal({ memoryLimit: 64n * MiB, memorySwap: 63n * MiB }), /^resources\.memory_swap: .* below memory_limit/);
    assert.match(refusal({ memoryLimit: -1n, memorySwap: 64n * MiB }), /^resources\.memory_swap: /);
    assert.match(refusal({ pidsLimit: 0n }), /^resources\.pids_limit: /);
    for (const list of ["", "a", "1-", "0,,1", "3-1", "x".repeat(2000)]) assert.match(refusal({ cpusetCpus: list }), /^resources\.cpuset_cpus: /, list);
    assert.match(refusal({ cpusetMems: "0 1" }), /^resources\.cpuset_mems: /);
  });
});
