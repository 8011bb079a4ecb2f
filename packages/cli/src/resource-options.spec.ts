import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ociResourcesOf, resourcesOf } from "./resource-options.js";

const MiB = 1024n * 1024n;

describe("resource flags", () => {
  it("become UpdateTask's limits: --cpus is a quota per 100 ms, only the flags given are set", () => {
    assert.deepEqual(resourcesOf({ cpus: 150000n, memory: 64n * MiB }), { cpuQuota: 150000n, cpuPeriod: 100000n, memoryLimit: 64n * MiB });
    assert.deepEqual(resourcesOf({}), {});
    assert.throws(() => resourcesOf({ cpus: 50000n, cpuQuota: 20000n }), /give either --cpus or --cpu-quota/);
  });

  it("become the OCI spec's linux.resources of a new container", () => {
    assert.deepEqual(
      ociResourcesOf(resourcesOf({ memory: 32n * MiB, memorySwap: -1n, cpuShares: 512n, cpus: 50000n, cpusetCpus: "0", pidsLimit: 10n })),
      { memory: { limit: 33554432, swap: -1 }, cpu: { shares: 512, quota: 50000, period: 100000, cpus: "0" }, pids: { limit: 10 } },
    );
    assert.equal(ociResourcesOf({}), undefined);
  });
});
