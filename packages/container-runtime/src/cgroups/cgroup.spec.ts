// Reading cgroups: the kernel's file formats; this node's own cgroup (v1 or
// v2, whichever it runs) found from /proc; and a cgroup v2 tree written in
// the format the kernel documents (Documentation/admin-guide/cgroup-v2.rst),
// read through the same code a v2 node uses, since this node may run v1.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CgroupVersion } from "@moby-core/container-runtime-api/v1";
import { cgroupOfProcess, isUnified, parseCgroupMounts, parseProcCgroup } from "./cgroup.js";
import { parseBlkioV1, parseDeviceKeyed, parseFlatKeyed } from "./cgroup-files.js";
import { CgroupV1 } from "./cgroup-v1.js";
import { CgroupV2, sharesFromWeight } from "./cgroup-v2.js";

const scratch = mkdtempSync(join(tmpdir(), "moby-cgroups-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

function writeTree(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

describe("cgroup file formats", () => {
  it("reads flat keyed, nested keyed and v1 blkio text, skipping what is not a value", () => {
    assert.deepEqual(parseFlatKeyed("usage_usec 12\nuser_usec 7\nbogus\nsome 3 4\n"), new Map([["usage_usec", 12n], ["user_usec", 7n]]));
    const io = parseDeviceKeyed("8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\nnot a line\n");
    assert.deepEqual(io, [{ major: 8n, minor: 0n, values: new Map([["rbytes", 100n], ["wbytes", 200n], ["rios", 1n], ["wios", 2n], ["dbytes", 0n], ["dios", 0n]]) }]);
    const blkio = parseBlkioV1("8:16 Read 4096\n8:16 Write 8192\n8:16 Sync 0\n8:16 Total 12288\nTotal 12288\n");
    assert.equal(blkio.length, 1);
    assert.deepEqual([blkio[0]!.values.get("Read"), blkio[0]!.values.get("Write")], [4096n, 8192n]);
  });

  it("reads /proc/PID/cgroup and the v1 mounts of mountinfo, combined controllers included", () => {
    assert.deepEqual(parseProcCgroup("12:cpu,cpuacct:/a/b\n0::/c\n"), [
      { controllers: ["cpu", "cpuacct"], path: "/a/b" },
      { controllers: [], path: "/c" },
    ]);
    const mounts = parseCgroupMounts(
      [
        "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct",
        "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd",
        "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw",
      ].join("\n"),
    );
    assert.deepEqual(mounts, [
      { root: "/", mountPoint: "/sys/fs/cgroup/cpu,cpuacct", controllers: ["cpu", "cpuacct"] },
      { root: "/", mountPoint: "/sys/fs/cgroup/systemd", controllers: [] },
    ]);
  });

  it("turns a v2 cpu.weight back into the cpu.shares runc made it from", () => {
    // runc: weight = 1 + (shares - 2) * 9999 / 262142.
    for (const shares of [2n, 512n, 1024n, 4096n, 262144n]) {
      const weight = 1n + ((shares - 2n) * 9999n) / 262142n;
      const back = sharesFromWeight(weight);
      assert.ok(back <= shares && shares - back < 27n, `${shares} -> ${weight} -> ${back}`);
    }
  });
});

describe("this node's cgroup", () => {
  it("finds the cgroup of this process and reads a sample from it", () => {
    const cgroup = cgroupOfProcess(process.pid);
    assert.ok(cgroup, "this process has a cgroup");
    assert.equal(cgroup.version, isUnified() ? CgroupVersion.V2 : CgroupVersion.V1);
    assert.ok(cgroup.exists());
    assert.ok(cgroup.pids().includes(process.pid) || cgroup instanceof CgroupV1, "v2: this process is in its own cgroup.procs");
    const sample = cgroup.sample();
    assert.ok((sample.memory.usage?.usage ?? 0n) > 0n, "memory in use");
  });

  it("has no cgroup for a process that does not exist", () => {
    assert.equal(cgroupOfProcess(2 ** 22 + 1), undefined);
  });
});

describe("a cgroup v2 tree", () => {
  const root = join(scratch, "v2");
  const proc = join(scratch, "proc");
  writeTree(root, { "cgroup.controllers": "cpuset cpu io memory pids\n" });
  writeTree(join(proc, "4242"), { cgroup: "0::/moby/task1\n" });
  const dir = join(root, "moby", "task1");
  writeTree(dir, {
    "cgroup.procs": "4242\n4250\n",
    "cpu.stat": "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 4\nthrottled_usec 250\n",
    "cpu.weight": "39\n",
    "cpu.max": "50000 100000\n",
    "cpuset.cpus": "\n",
    "cpuset.cpus.effective": "0-1\n",
    "cpuset.mems": "0\n",
    "memory.current": "8388608\n",
    "memory.max": "67108864\n",
    "memory.peak": "9000000\n",
    "memory.low": "0\n",
    "memory.swap.current": "0\n",
    "memory.swap.max": "0\n",
    "memory.events": "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n",
    "memory.stat": "anon 4096000\nfile 2048000\ninactive_file 1024000\nshmem 0\n",
    "pids.current": "2\n",
    "pids.max": "max\n",
    "io.stat": "259:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n8:0 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=0 dios=0\n",
  });

  it("is found from /proc/PID/cgroup when the root is the unified hierarchy", () => {
    const cgroup = cgroupOfProcess(4242, { cgroupRoot: root, procRoot: proc });
    assert.ok(cgroup instanceof CgroupV2);
    assert.equal(cgroup.dir, dir);
    assert.deepEqual(cgroup.pids(), [4242, 4250]);
    assert.equal(cgroup.oomKills(), 1n);
  });

  it("reads a sample under containerd's names, times in nanoseconds", () => {
    const sample = new CgroupV2(dir).sample();
    assert.deepEqual(sample.cpu, {
      usage: { total: 1_500_000n, kernel: 500_000n, user: 1_000_000n, perCpu: [] },
      throttling: { periods: 10n, throttledPeriods: 4n, throttledTime: 250_000n },
    });
    assert.deepEqual(sample.memory.usage, { limit: 67108864n, usage: 8388608n, max: 9000000n, failcnt: 3n });
    assert.deepEqual([sample.memory.rss, sample.memory.cache, sample.memory.inactiveFile, sample.memory.oomKill], [4096000n, 2048000n, 1024000n, 1n]);
    assert.equal(sample.memory.stat?.shmem, 0n);
    assert.deepEqual(sample.pids, { current: 2n, limit: 0n });
    assert.deepEqual(
      sample.io.usage?.map((e) => [e.major, e.minor, e.rbytes, e.wbytes, e.rios, e.wios]),
      [
        [8n, 0n, 100n, 200n, 3n, 4n],
        [259n, 0n, 10n, 20n, 1n, 2n],
      ],
    );
  });

  it("reads its limits as TaskResources: -1 for none, swap as memory plus swap", () => {
    const resources = new CgroupV2(dir).resources();
    assert.deepEqual(
      [resources.cpuShares, resources.cpuQuota, resources.cpuPeriod, resources.cpusetCpus, resources.cpusetMems],
      [sharesFromWeight(39n), 50000n, 100000n, "0-1", "0"],
    );
    assert.deepEqual([resources.memoryLimit, resources.memoryReservation, resources.memorySwap, resources.pidsLimit], [67108864n, -1n, 67108864n, -1n]);
  });
});
