/**
 * The loads of the container-runtime benchmarks, run in a client runner
 * process: containers run one after another, each timed from its first
 * call to its last, either through the stack (the container store and the
 * container runtime, over their sockets) or with runc directly (`runc run`
 * of a bundle, then `runc delete`); and containers started through the
 * stack and left running, for the memory measurement, and stopped again.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import type { Any } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ContainerRuntimeService } from "@moby-core/container-runtime-api/v1";
import { ContainerSchema, ContainerStoreService } from "@moby-core/container-store-api/v1";
import { packOciSpec } from "@moby-core/container-runtime/oci-spec-builder";

/** The two ways of running a container that are compared. */
export type LifecyclePeer = "stack" | "runc";

/** The timed steps of one container, in ms, by name (the stack's calls, or runc's commands). */
export type Steps = Record<string, number>;

/** One container run to its end and removed. */
export interface ContainerTiming {
  /** From the first call (or spawn) to the last one done, in ms. */
  ms: number;
  steps: Steps;
}

/** One request to the client runner. */
export type RuntimeLoadRequest =
  | { kind: "ready"; timeoutMs: number }
  | {
      kind: "lifecycle";
      peer: LifecyclePeer;
      /** Containers are named `${prefix}-${i}`; warm-up ones `${prefix}-w${i}`. */
      prefix: string;
      /** Containers run first and not reported. */
      warmup: number;
      /** Containers timed. */
      count: number;
    }
  | { kind: "start"; ids: string[] }
  | { kind: "stop"; ids: string[] }
  | {
      kind: "metrics";
      peer: MetricsPeer;
      /** The running container to sample. */
      id: string;
      /** runc's state root of the runtime (for `runc events`). */
      runcRoot: string;
      /** Samples taken first and not reported. */
      warmup: number;
      /** Samples timed. */
      count: number;
    };

/** The two ways of reading a running container's resource use that are compared. */
export type MetricsPeer = "stack" | "runc-events";

/** What a metrics request reports: the ms of every timed sample, in order. */
export interface MetricsResult {
  samplesMs: number[];
}

/** What a lifecycle request reports: every timed container, in order. */
export interface LifecycleResult {
  containers: ContainerTiming[];
  elapsedMs: number;
}

/** A container started and left running: its id and the host pid of its init process. */
export interface Started {
  id: string;
  pid: number;
}

/** Where the runner finds everything: given on its command line. */
export interface RunnerPaths {
  storeSocket: string;
  runtimeSocket: string;
  /** The runc binary. */
  runc: string;
  /** runc's state root for the direct runs (not the runtime's). */
  runcRoot: string;
  /** A bundle (config.json, absolute root.path) whose program is `true`: run directly, and its config.json stored for the stack. */
  trueBundle: string;
  /** A bundle whose program is `sleep 600`: its config.json stored for the memory measurement. */
  sleepBundle: string;
}

/** Runs a command; resolves when it exited with 0, rejects with its stderr otherwise. */
function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4096);
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(" ")}: ${signal ?? `exit status ${code}`}: ${stderr.trim()}`));
    });
  });
}

/** Runs a command; resolves with its stdout when it exited with 0, rejects with its stderr otherwise. */
function output(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4096);
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`${command} ${args.join(" ")}: ${signal ?? `exit status ${code}`}: ${stderr.trim()}`));
    });
  });
}

/** The runner's side of every request. */
export class RuntimeLoad {
  private readonly connections: Connection[] = [];
  private readonly store: Client<typeof ContainerStoreService>;
  private readonly runtime: Client<typeof ContainerRuntimeService>;
  private readonly trueSpec: Any;
  private readonly sleepSpec: Any;

  constructor(private readonly paths: RunnerPaths) {
    const storeConnection = dialSocket(paths.storeSocket);
    const runtimeConnection = dialSocket(paths.runtimeSocket);
    this.connections.push(storeConnection, runtimeConnection);
    this.store = storeConnection.client(ContainerStoreService);
    this.runtime = runtimeConnection.client(ContainerRuntimeService);
    // The stored specs are the bundles' config.json, byte for byte: the stack and runc run the same container.
    this.trueSpec = packOciSpec(readFileSync(`${paths.trueBundle}/config.json`));
    this.sleepSpec = packOciSpec(readFileSync(`${paths.sleepBundle}/config.json`));
  }

  async handle(request: RuntimeLoadRequest): Promise<unknown> {
    switch (request.kind) {
      case "ready":
        await this.connections[1]!.waitForHealthy(ContainerRuntimeService.typeName, request.timeoutMs);
        return { ready: true };
      case "lifecycle":
        return this.lifecycle(request);
      case "start":
        return this.start(request.ids);
      case "stop":
        return this.stop(request.ids);
      case "metrics":
        return this.metrics(request);
    }
  }

  /**
   * Samples of one running container's CPU, memory, pids and I/O, one after
   * another: GetTaskMetrics (the runtime reads the cgroup files) or `runc
   * events --stats` (a runc process per sample, as a runtime that asked runc
   * would spawn), each checked to hold a CPU counter.
   */
  private async metrics(request: Extract<RuntimeLoadRequest, { kind: "metrics" }>): Promise<MetricsResult> {
    const once =
      request.peer === "stack"
        ? async () => {
            const { metrics } = await this.runtime.getTaskMetrics({ containerId: request.id });
            if ((metrics?.cpu?.usage?.total ?? 0n) === 0n) throw new Error("GetTaskMetrics returned no CPU usage");
          }
        : async () => {
            const stdout = await output(this.paths.runc, ["--root", request.runcRoot, "events", "--stats", request.id]);
            const parsed = JSON.parse(stdout) as { data?: { cpu?: { usage?: { total?: number } } } };
            if ((parsed.data?.cpu?.usage?.total ?? 0) === 0) throw new Error("runc events --stats returned no CPU usage");
          };
    for (let i = 0; i < request.warmup; i++) await once();
    const samplesMs: number[] = [];
    for (let i = 0; i < request.count; i++) {
      const t0 = performance.now();
      await once();
      samplesMs.push(performance.now() - t0);
    }
    return { samplesMs };
  }

  private async lifecycle(request: Extract<RuntimeLoadRequest, { kind: "lifecycle" }>): Promise<LifecycleResult> {
    const once = request.peer === "stack" ? (id: string) => this.throughStack(id) : (id: string) => this.withRunc(id);
    for (let i = 0; i < request.warmup; i++) await once(`${request.prefix}-w${i}`);
    const containers: ContainerTiming[] = [];
    const started = performance.now();
    for (let i = 0; i < request.count; i++) containers.push(await once(`${request.prefix}-${i}`));
    return { containers, elapsedMs: performance.now() - started };
  }

  /** CreateContainer, CreateTask, StartTask, WaitTask, DeleteTask, DeleteContainer of one `true` container. */
  private async throughStack(id: string): Promise<ContainerTiming> {
    const t0 = performance.now();
    await this.store.createContainer({ container: create(ContainerSchema, { id, runtime: { name: "runc" }, spec: this.trueSpec }) });
    const t1 = performance.now();
    try {
      await this.runtime.createTask({ containerId: id });
      const t2 = performance.now();
      await this.runtime.startTask({ containerId: id });
      const t3 = performance.now();
      const waited = await this.runtime.waitTask({ containerId: id });
      if (waited.exitStatus?.exitCode !== 0) throw new Error(`container ${id} exited with ${waited.exitStatus?.exitCode} (signal ${waited.exitStatus?.signal})`);
      const t4 = performance.now();
      await this.runtime.deleteTask({ containerId: id });
      const t5 = performance.now();
      await this.store.deleteContainer({ id });
      const t6 = performance.now();
      return { ms: t6 - t0, steps: { recordMs: t1 - t0 + (t6 - t5), createMs: t2 - t1, startMs: t3 - t2, waitMs: t4 - t3, deleteMs: t5 - t4 } };
    } catch (error) {
      await this.removeQuietly(id);
      throw error;
    }
  }

  /** `runc run --keep` of the bundle (the container's whole life: create, start, exit), then `runc delete`. */
  private async withRunc(id: string): Promise<ContainerTiming> {
    const global = ["--root", this.paths.runcRoot];
    const t0 = performance.now();
    try {
      await run(this.paths.runc, [...global, "run", "--keep", "--bundle", this.paths.trueBundle, id]);
    } catch (error) {
      await run(this.paths.runc, [...global, "delete", "--force", id]).catch(() => {});
      throw error;
    }
    const t1 = performance.now();
    await run(this.paths.runc, [...global, "delete", id]);
    const t2 = performance.now();
    return { ms: t2 - t0, steps: { runMs: t1 - t0, deleteMs: t2 - t1 } };
  }

  /** Stores, creates and starts a `sleep 600` container per id, one after another; leaves them running. */
  private async start(ids: string[]): Promise<Started[]> {
    const started: Started[] = [];
    for (const id of ids) {
      try {
        await this.store.createContainer({ container: create(ContainerSchema, { id, runtime: { name: "runc" }, spec: this.sleepSpec }) });
        await this.runtime.createTask({ containerId: id });
        const { task } = await this.runtime.startTask({ containerId: id });
        started.push({ id, pid: task?.pid ?? 0 });
      } catch (error) {
        await this.removeQuietly(id);
        throw error;
      }
    }
    return started;
  }

  /** Kills, waits for, deletes the task of and removes the record of every id; reports the ones that failed. */
  private async stop(ids: string[]): Promise<{ stopped: number; errors: string[] }> {
    const errors: string[] = [];
    let stopped = 0;
    for (const id of ids) {
      try {
        await this.runtime.killTask({ containerId: id, signal: 9 }).catch(() => {});
        await this.runtime.waitTask({ containerId: id }, { timeoutMs: 10_000 });
        await this.runtime.deleteTask({ containerId: id });
        await this.store.deleteContainer({ id });
        stopped++;
      } catch (error) {
        errors.push(`${id}: ${error instanceof Error ? error.message : String(error)}`);
        await this.removeQuietly(id);
      }
    }
    return { stopped, errors };
  }

  /** Removes what there is of a container (task, record), ignoring every error. */
  private async removeQuietly(id: string): Promise<void> {
    await this.runtime.killTask({ containerId: id, signal: 9 }).catch(() => {});
    await this.runtime.waitTask({ containerId: id }, { timeoutMs: 5_000 }).catch(() => {});
    await this.runtime.deleteTask({ containerId: id }).catch(() => {});
    await this.store.deleteContainer({ id }).catch(() => {});
  }

  close(): void {
    this.connections.forEach((c) => c.close());
  }
}
