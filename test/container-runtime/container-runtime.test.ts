// The container-runtime component against its contract, with real runc and
// real containers (a busybox rootfs): the lifecycle and exit codes, signals,
// kept output (stdout, stderr, tail, since, follow, the size bound), exec,
// pause and resume, listing, every bad input and status, the events, tasks
// found again after the runtime is killed with SIGKILL (one still running,
// one that exited meanwhile), interactive I/O through Attach (stdin, a
// terminal, resize, several readers, after a restart), and the component
// without runc. A real container store and events component run next to
// it. Needs root and runc; every container and shim is removed afterwards.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { anyPack, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { Any } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import { Code, ConnectError, dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ContainerRuntimeService, OciSpecSchema, RestartMode, RuntimeOptionsSchema, Status } from "@moby-core/container-runtime-api/v1";
import type { ReadLogsRequestSchema, ReadLogsResponse } from "@moby-core/container-runtime-api/v1";
import { AttachRequestSchema, AttachStartSchema, TerminalSizeSchema } from "@moby-core/container-runtime-api/v1";
import type { AttachRequest } from "@moby-core/container-runtime-api/v1";
import { ContainerSchema, ContainerStoreService } from "@moby-core/container-store-api/v1";
import { LogStream } from "@moby-core/types-api/v1";
import {
  StartPosition,
  TaskCreateSchema,
  TaskDeleteSchema,
  TaskExecAddedSchema,
  TaskExecStartedSchema,
  TaskExitSchema,
  TaskPausedSchema,
  TaskStartSchema,
} from "@moby-core/events-api/v1";
import type { Envelope } from "@moby-core/events-api/v1";
import { Health, HealthCheckResponse_ServingStatus } from "@moby-core/grpc-health-api/v1";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { ComponentProcess, scratchDirectory } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";
import { EventsComponent, SubscriptionReader, sleep } from "../support/events-component.js";
import { makeBusyboxRootfs } from "../../packages/container-runtime/src/busybox-rootfs.js";
import { buildOciSpec, packOciSpec } from "../../packages/container-runtime/src/oci-spec-builder.js";
import type { OciSpecOptions } from "../../packages/container-runtime/src/oci-spec-builder.js";
import { rejection } from "../support/rejection.js";

type RuntimeClient = Client<typeof ContainerRuntimeService>;
type StoreClient = Client<typeof ContainerStoreService>;

const RUNC = ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"].find((path) => existsSync(path));
const canRun = process.getuid?.() === 0 && RUNC !== undefined;
const skip = canRun ? false : "needs root and runc";

const scratch = scratchDirectory("moby-rt-");
const suffix = Math.random().toString(36).slice(2, 8);
/** A container id unique to this run (runc's cgroups are per id, node-wide). */
const cid = (name: string) => `${name}-${suffix}`;


async function expectCode(promise: Promise<unknown>, code: Code, includes?: string | RegExp): Promise<ConnectError> {
  const error = await rejection(promise);
  assert.equal(error.code, code, `expected ${Code[code]}, got ${Code[error.code]}: ${error.rawMessage}`);
  if (typeof includes === "string") assert.ok(error.rawMessage.includes(includes), `expected the message to include ${JSON.stringify(includes)}: ${error.rawMessage}`);
  else if (includes !== undefined) assert.match(error.rawMessage, includes);
  return error;
}

async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(25);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** The container store as a child process. */
class Store {
  readonly socketPath = join(scratch.dir, "store", "cs.sock");
  process: ComponentProcess | undefined;
  private connection: Connection | undefined;

  async start(events: string): Promise<void> {
    this.process = new ComponentProcess("packages/container-store/bin/moby-container-store.js", {
      MOBY_SOCKET: this.socketPath,
      MOBY_COMPONENT_NAME: "container-store",
      MOBY_LOG_LEVEL: "warn",
      MOBY_REGISTRY_ENDPOINT: "",
      MOBY_ENDPOINT_EVENTS: events,
      MOBY_COMPONENT_CONFIG: JSON.stringify({ database: join(scratch.dir, "store", "containers.db") }),
    });
    await this.process.waitForSocket(this.socketPath);
  }

  client(): StoreClient {
    this.connection ??= dialSocket(this.socketPath);
    return this.connection.client(ContainerStoreService);
  }

  async close(): Promise<void> {
    this.connection?.close();
    await this.process?.stop("SIGKILL");
  }
}

/** The container runtime as a child process, restartable on the same run directory. */
class Runtime {
  readonly socketPath: string;
  readonly runDir: string;
  readonly stateDir: string;
  process: ComponentProcess | undefined;
  private readonly connections: Connection[] = [];

  constructor(
    readonly name: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.runDir = join(scratch.dir, name);
    this.socketPath = join(this.runDir, "container-runtime.sock");
    this.stateDir = join(this.runDir, "container-runtime");
  }

  /** Starts the component and waits until it serves (and, unless told otherwise, until the runtime service is SERVING). */
  async start(waitServing = true): Promise<ComponentProcess> {
    const child = new ComponentProcess("packages/container-runtime/bin/moby-container-runtime.js", {
      MOBY_SOCKET: this.socketPath,
      MOBY_RUN_DIR: this.runDir,
      MOBY_COMPONENT_NAME: "container-runtime",
      MOBY_LOG_LEVEL: "warn",
      MOBY_REGISTRY_ENDPOINT: "",
      ...this.env,
    });
    this.process = child;
    await child.waitForSocket(this.socketPath);
    if (waitServing) await this.dial().waitForHealthy(ContainerRuntimeService.typeName, 20_000);
    return child;
  }

  dial(): Connection {
    const connection = dialSocket(this.socketPath, { retry: false });
    this.connections.push(connection);
    return connection;
  }

  client(): RuntimeClient {
    return this.dial().client(ContainerRuntimeService);
  }

  async stop(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    this.connections.splice(0).forEach((c) => c.close());
    const child = this.process;
    this.process = undefined;
    await child?.stop(signal);
  }

  /** The shims (pid and start time) recorded under the state directory. */
  shims(): { pid: number; startTime: string }[] {
    const found: { pid: number; startTime: string }[] = [];
    const tasks = join(this.stateDir, "tasks");
    if (!existsSync(tasks)) return found;
    for (const id of readdirSync(tasks)) {
      const dirs = [join(tasks, id, "init")];
      const execs = join(tasks, id, "execs");
      if (existsSync(execs)) dirs.push(...readdirSync(execs).map((e) => join(execs, e)));
      for (const dir of dirs) {
        try {
          found.push(JSON.parse(readFileSync(join(dir, "shim.json"), "utf8")) as { pid: number; startTime: string });
        } catch {
          // none
        }
      }
    }
    return found;
  }

  /** Removes every container of this runtime (runc delete -f) and kills every shim. */
  async cleanup(): Promise<void> {
    await this.stop();
    const root = join(this.stateDir, "runc");
    if (RUNC !== undefined && existsSync(root)) {
      const listed = spawnSync(RUNC, ["--root", root, "list", "-q"], { encoding: "utf8" });
      for (const id of listed.stdout.split("\n").filter((line) => line.trim() !== "")) {
        spawnSync(RUNC, ["--root", root, "delete", "--force", id.trim()]);
      }
    }
    for (const shim of this.shims()) {
      if (startTime(shim.pid) === shim.startTime) {
        try {
          process.kill(shim.pid, "SIGKILL");
        } catch {
          // gone
        }
      }
    }
  }
}

/** The start time of a live process, or undefined. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[0] === "Z" ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

/** The command names (comm) of a process's children. */
function childrenOf(pid: number): string[] {
  const names: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[1]) === pid) names.push(stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")));
    } catch {
      // gone
    }
  }
  return names;
}

/** The state letter of a process (R, S, T, Z, ...), or undefined when there is none. */
function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** A field of /proc/PID/status in kB. */
function statusKb(pid: number, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(match?.[1] ?? 0);
}

/** Every ReadLogs response. */
async function readAll(client: RuntimeClient, request: MessageInitShape<typeof ReadLogsRequestSchema>, timeoutMs = 20_000): Promise<ReadLogsResponse[]> {
  const out: ReadLogsResponse[] = [];
  for await (const response of client.readLogs(request, { timeoutMs })) out.push(response);
  return out;
}

function text(responses: ReadLogsResponse[], stream?: LogStream): string {
  return Buffer.concat(responses.filter((r) => stream === undefined || r.stream === stream).map((r) => r.data)).toString();
}

/** One Attach call: requests pushed as they come, the output collected as text. */
class Attached {
  /** Resolves with the AttachReady. */
  readonly ready: Promise<void>;
  /** Resolves when the response stream ends with OK; rejects with its error. */
  readonly ended: Promise<void>;
  readyMessage = { stdin: false, terminal: false };
  text = "";
  private readonly queue: AttachRequest["request"][] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  private changed: (() => void) | undefined;

  constructor(client: RuntimeClient, start: MessageInitShape<typeof AttachStartSchema> | undefined, first: AttachRequest["request"][] = []) {
    if (start !== undefined) this.queue.push({ case: "start", value: create(AttachStartSchema, start) });
    this.queue.push(...first);
    const responses = client.attach(this.requests(), { timeoutMs: 60_000 });
    let onReady!: () => void;
    this.ready = new Promise((resolve) => (onReady = resolve));
    this.ended = (async () => {
      for await (const response of responses) {
        if (response.response.case === "ready") {
          this.readyMessage = { stdin: response.response.value.stdin, terminal: response.response.value.terminal };
          onReady();
        } else if (response.response.case === "output") {
          this.text += Buffer.from(response.response.value.data).toString();
          this.changed?.();
        }
      }
    })();
    this.ended.catch(() => onReady());
  }

  private async *requests(): AsyncGenerator<AttachRequest> {
    for (;;) {
      while (this.queue.length > 0) yield create(AttachRequestSchema, { request: this.queue.shift()! });
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Sends one request. */
  send(request: AttachRequest["request"]): void {
    this.queue.push(request);
    this.wake?.();
  }

  /** Resolves once the output so far contains text; fails when the stream ends first. */
  async until(wanted: string): Promise<void> {
    let ended = false;
    void this.ended.then(() => (ended = true), () => (ended = true));
    while (!this.text.includes(wanted)) {
      if (ended) {
        const error = await this.ended.then(() => undefined, (e: unknown) => e);
        assert.fail(`the stream ended${error === undefined ? "" : ` (${String(error)})`} without ${JSON.stringify(wanted)}: ${JSON.stringify(this.text)}`);
      }
      await new Promise<void>((resolve) => {
        this.changed = resolve;
        void this.ended.then(resolve, resolve);
      });
    }
  }
}

describe("container-runtime", { skip }, () => {
  const events = new EventsComponent(join(scratch.dir, "events"));
  const store = new Store();
  let runtime: Runtime;
  let client: RuntimeClient;
  let rootfs: string;

  /** Stores a container that runs args in the busybox rootfs. */
  async function storeContainer(id: string, args: string[], options: Partial<OciSpecOptions> = {}, spec?: Any): Promise<void> {
    await store.client().createContainer({
      container: create(ContainerSchema, { id, runtime: { name: "runc" }, spec: spec ?? packOciSpec({ rootfs, args, ...options }) }),
    });
  }

  /** Stores, creates and starts a container. */
  async function run(id: string, args: string[], options: Partial<OciSpecOptions> = {}, maxSizeBytes = 0n) {
    await storeContainer(id, args, options);
    const created = await client.createTask({ containerId: id, logConfig: { maxSizeBytes } });
    const started = await client.startTask({ containerId: id });
    return { created: created.task!, started: started.task! };
  }

  before(async () => {
    rootfs = makeBusyboxRootfs(join(scratch.dir, "rootfs"));
    await events.start();
    await store.start(events.socketPath);
    runtime = new Runtime("rt", { MOBY_ENDPOINT_CONTAINER_STORE: store.socketPath, MOBY_ENDPOINT_EVENTS: events.socketPath });
    await runtime.start();
    client = runtime.client();
  });

  after(async () => {
    await runtime?.cleanup();
    await store.close();
    await events.close();
    scratch.remove();
  });

  it("runs a container through its lifecycle to its exit code", async () => {
    const id = cid("life");
    await storeContainer(id, ["sh", "-c", "echo hello; echo oops >&2; exit 3"]);
    const { task: created } = await client.createTask({ containerId: id });
    assert.equal(created!.status, Status.CREATED);
    assert.ok(created!.pid > 0, "a created task has the pid of its init process");
    assert.equal(created!.bundle, join(runtime.stateDir, "tasks", id));
    assert.ok(existsSync(join(created!.bundle, "config.json")));
    assert.equal(created!.logConfig?.maxSizeBytes, 10n * 1024n * 1024n);
    assert.equal(created!.startedAt, undefined);
    assert.equal((await client.getTask({ containerId: id })).task!.status, Status.CREATED);

    const { task: started } = await client.startTask({ containerId: id });
    assert.ok(started!.status === Status.RUNNING || started!.status === Status.STOPPED);
    assert.equal(started!.pid, created!.pid);
    assert.ok(started!.startedAt !== undefined);

    const waited = await client.waitTask({ containerId: id });
    assert.deepEqual([waited.exitStatus?.exitCode, waited.exitStatus?.signal], [3, ""]);
    const got = (await client.getTask({ containerId: id })).task!;
    assert.equal(got.status, Status.STOPPED);
    assert.equal(got.exitStatus?.exitCode, 3);
    assert.ok(got.exitStatus?.exitTime !== undefined);

    const logs = await readAll(client, { containerId: id });
    assert.equal(text(logs, LogStream.STDOUT), "hello\n");
    assert.equal(text(logs, LogStream.STDERR), "oops\n");

    const deleted = await client.deleteTask({ containerId: id });
    assert.equal(deleted.exitStatus?.exitCode, 3);
    assert.equal(deleted.pid, created!.pid);
    assert.ok(deleted.exitStatus?.exitTime !== undefined);
    await expectCode(client.getTask({ containerId: id }), Code.NotFound);
    assert.ok(!existsSync(created!.bundle), "the bundle is removed");
    assert.equal(spawnSync(RUNC!, ["--root", join(runtime.stateDir, "runc"), "state", id]).status, 1, "runc has no such container any more");
  });

  it("reports exit 0, and a process killed by SIGKILL as 137 with its signal", async () => {
    const zero = cid("zero");
    await run(zero, ["true"]);
    assert.deepEqual((await client.waitTask({ containerId: zero })).exitStatus?.exitCode, 0);

    const id = cid("sigkill");
    await run(id, ["sleep", "1000"]);
    assert.equal((await client.getTask({ containerId: id })).task!.status, Status.RUNNING);
    await client.killTask({ containerId: id, signal: 9 });
    const waited = await client.waitTask({ containerId: id });
    assert.deepEqual([waited.exitStatus?.exitCode, waited.exitStatus?.signal], [137, "SIGKILL"]);
    await expectCode(client.killTask({ containerId: id, signal: 9 }), Code.FailedPrecondition, "STOPPED");
    await client.deleteTask({ containerId: id });
    await client.deleteTask({ containerId: zero });
  });

  it("reports a process killed by SIGTERM as 143 with its signal, and sends a signal to all processes", async () => {
    // PID 1 of a PID namespace ignores SIGTERM without a handler, so this task
    // shares the node's PID namespace, as a plain process would.
    const id = cid("sigterm");
    await run(id, ["sleep", "1000"], { namespaces: ["network", "ipc", "uts", "mount"] });
    await client.killTask({ containerId: id, signal: 15 });
    const waited = await client.waitTask({ containerId: id });
    assert.deepEqual([waited.exitStatus?.exitCode, waited.exitStatus?.signal], [143, "SIGTERM"]);
    await client.deleteTask({ containerId: id });

    // all: the shell's child gets SIGTERM too, and the shell reports it.
    const all = cid("killall");
    await run(all, ["sh", "-c", "sleep 1000 & wait $!"]);
    await sleep(200);
    await client.killTask({ containerId: all, signal: 15, all: true });
    assert.equal((await client.waitTask({ containerId: all })).exitStatus?.exitCode, 143);
    await client.deleteTask({ containerId: all });
  });

  it("keeps stdout and stderr apart and interleaved, with tail and since", async () => {
    const id = cid("logs");
    // A pause between writes: the order across streams is the order the shim read them.
    await run(id, ["sh", "-c", "for i in 1 2 3 4 5; do echo out$i; sleep 0.05; echo err$i >&2; sleep 0.05; done; printf tail"]);
    await client.waitTask({ containerId: id });
    const both = await readAll(client, { containerId: id });
    assert.equal(text(both, LogStream.STDOUT), "out1\nout2\nout3\nout4\nout5\ntail");
    assert.equal(text(both, LogStream.STDERR), "err1\nerr2\nerr3\nerr4\nerr5\n");
    assert.equal(text(both).replace(/\n/g, " ").trim(), "out1 err1 out2 err2 out3 err3 out4 err4 out5 err5 tail", "both streams in the order written");
    for (let i = 1; i < both.length; i++) {
      const a = both[i - 1]!.timestamp!;
      const b = both[i]!.timestamp!;
      assert.ok(a.seconds < b.seconds || (a.seconds === b.seconds && a.nanos <= b.nanos), "timestamps never decrease");
    }
    assert.ok(both.every((r) => r.stream !== LogStream.UNSPECIFIED && r.data.byteLength > 0 && r.data.byteLength <= 32768));

    assert.equal(text(await readAll(client, { containerId: id, stream: LogStream.STDOUT })), "out1\nout2\nout3\nout4\nout5\ntail");
    assert.equal(text(await readAll(client, { containerId: id, stream: LogStream.STDERR })), "err1\nerr2\nerr3\nerr4\nerr5\n");
    assert.equal(text(await readAll(client, { containerId: id, stream: LogStream.STDOUT, tailLines: 2 })), "out5\ntail");
    assert.equal(text(await readAll(client, { containerId: id, stream: LogStream.STDERR, tailLines: 2 })), "err4\nerr5\n");
    assert.equal(text(await readAll(client, { containerId: id, tailLines: 3 })).replace(/\n/g, " "), "out5 err5 tail");
    assert.equal(text(await readAll(client, { containerId: id, tailLines: 0 })), "");
    assert.equal(text(await readAll(client, { containerId: id, stream: LogStream.STDOUT, tailLines: 100 })), "out1\nout2\nout3\nout4\nout5\ntail");
    assert.deepEqual(await readAll(client, { containerId: id, since: timestampFromMs(Date.now() + 60_000) }), []);
    assert.equal(text(await readAll(client, { containerId: id, since: timestampFromMs(Date.now() - 60_000) })).length, text(both).length);
    await expectCode(readAll(client, { containerId: cid("nologs") }), Code.NotFound);
    await expectCode(readAll(client, { containerId: id, execId: "nope" }), Code.NotFound);
    await client.deleteTask({ containerId: id });
  });

  it("follows the output until the process exits and its output is drained", async () => {
    const id = cid("follow");
    await storeContainer(id, ["sh", "-c", "for i in 1 2 3 4 5; do echo line$i; sleep 0.2; done; echo bye >&2; exit 4"]);
    await client.createTask({ containerId: id });
    // Following a created task waits for it to start.
    const following = readAll(client, { containerId: id, follow: true });
    await sleep(300);
    await client.startTask({ containerId: id });
    const started = Date.now();
    const responses = await following;
    assert.ok(Date.now() - started >= 800, "the stream lasted as long as the process");
    assert.equal(text(responses, LogStream.STDOUT), "line1\nline2\nline3\nline4\nline5\n");
    assert.equal(text(responses, LogStream.STDERR), "bye\n");
    assert.ok(responses.length >= 5, "the lines came as they were written");
    assert.equal((await client.getTask({ containerId: id })).task!.status, Status.STOPPED);

    // Following an exited process sends what was kept and ends; tail 0 with follow sends nothing.
    assert.equal(text(await readAll(client, { containerId: id, follow: true, tailLines: 1 })), "bye\n");
    assert.deepEqual(await readAll(client, { containerId: id, follow: true, tailLines: 0 }), []);
    await client.deleteTask({ containerId: id });
  });

  it("keeps at most about max_size_bytes of each stream, the newest part", async () => {
    const id = cid("bounded");
    // About 1 MB of numbered lines on stdout, a little on stderr.
    await run(id, ["sh", "-c", "seq 1 150000; echo small >&2"], {}, 65536n);
    assert.equal((await client.waitTask({ containerId: id })).exitStatus?.exitCode, 0);
    const dir = join(runtime.stateDir, "tasks", id, "init");
    const onDisk = ["stdout.log", "stdout.log.1"].filter((f) => existsSync(join(dir, f))).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    assert.ok(onDisk <= 65536 + 2 * (24 + 32768), `stdout keeps ${onDisk} bytes on disk`);
    const kept = text(await readAll(client, { containerId: id, stream: LogStream.STDOUT }));
    assert.ok(kept.length >= 32768 && kept.length <= 65536 + 32768, `kept ${kept.length} bytes`);
    assert.ok(kept.endsWith("149999\n150000\n"), "the newest output is kept");
    assert.ok(!kept.includes("\n1000\n"), "the oldest output is dropped");
    assert.equal(text(await readAll(client, { containerId: id, stream: LogStream.STDOUT, tailLines: 2 })), "149999\n150000\n");
    assert.equal(text(await readAll(client, { containerId: id, stream: LogStream.STDERR })), "small\n");
    await expectCode(client.createTask({ containerId: id, logConfig: { maxSizeBytes: 1000n } }), Code.InvalidArgument, "log_config.max_size_bytes");
    await client.deleteTask({ containerId: id });
  });

  it("runs exec processes in a running task, with their output and exit codes", async () => {
    const id = cid("exec");
    await run(id, ["sleep", "1000"]);
    const { process: exec } = await client.execProcess({ containerId: id, execId: "one", args: ["sh", "-c", "echo from-exec $FOO; echo e2 >&2; exit 7"], env: ["FOO=bar"] });
    assert.ok(exec!.pid > 0);
    assert.equal(exec!.execId, "one");
    assert.deepEqual(exec!.args, ["sh", "-c", "echo from-exec $FOO; echo e2 >&2; exit 7"]);
    const waited = await client.waitTask({ containerId: id, execId: "one" });
    assert.equal(waited.exitStatus?.exitCode, 7);
    const logs = await readAll(client, { containerId: id, execId: "one", follow: true });
    assert.equal(text(logs, LogStream.STDOUT), "from-exec bar\n");
    assert.equal(text(logs, LogStream.STDERR), "e2\n");
    assert.equal(text(await readAll(client, { containerId: id })), "", "the init process's output is its own");

    const task = (await client.getTask({ containerId: id })).task!;
    assert.equal(task.status, Status.RUNNING);
    assert.equal(task.execs.length, 1);
    assert.equal(task.execs[0]!.status, Status.STOPPED);
    assert.equal(task.execs[0]!.exitStatus?.exitCode, 7);

    await expectCode(client.execProcess({ containerId: id, execId: "one", args: ["true"] }), Code.AlreadyExists);
    await expectCode(client.execProcess({ containerId: id, execId: "missing", args: ["no-such-program"] }), Code.FailedPrecondition, "no-such-program");
    await expectCode(client.execProcess({ containerId: id, execId: "../x", args: ["true"] }), Code.InvalidArgument, "exec_id");
    await expectCode(client.execProcess({ containerId: id, execId: "two", args: [] }), Code.InvalidArgument, "args");
    await expectCode(client.execProcess({ containerId: id, execId: "two", args: ["true"], env: ["NOEQUALS"] }), Code.InvalidArgument, "env[0]");
    await expectCode(client.execProcess({ containerId: id, execId: "two", args: ["true"], cwd: "relative" }), Code.InvalidArgument, "cwd");

    // A long-running exec, signalled on its own; cwd and user apply.
    const { process: sleeper } = await client.execProcess({ containerId: id, execId: "sleeper", args: ["sh", "-c", "pwd; id -u; exec sleep 1000"], cwd: "/tmp", user: { uid: 1000, gid: 1000, additionalGids: [] } });
    assert.equal(sleeper!.status, Status.RUNNING);
    await eventually(async () => text(await readAll(client, { containerId: id, execId: "sleeper" })) === "/tmp\n1000\n", "the exec's output");
    await expectCode(client.deleteTask({ containerId: id, execId: "sleeper" }), Code.FailedPrecondition, "RUNNING");
    await expectCode(client.killTask({ containerId: id, execId: "sleeper", signal: 9, all: true }), Code.InvalidArgument, "all");
    await client.killTask({ containerId: id, execId: "sleeper", signal: 9 });
    const killed = await client.waitTask({ containerId: id, execId: "sleeper" });
    assert.deepEqual([killed.exitStatus?.exitCode, killed.exitStatus?.signal], [137, "SIGKILL"]);

    const removed = await client.deleteTask({ containerId: id, execId: "one" });
    assert.equal(removed.exitStatus?.exitCode, 7);
    await expectCode(client.waitTask({ containerId: id, execId: "one" }), Code.NotFound);
    assert.deepEqual((await client.getTask({ containerId: id })).task!.execs.map((e) => e.execId), ["sleeper"]);

    await client.killTask({ containerId: id, signal: 9 });
    await client.waitTask({ containerId: id });
    await expectCode(client.execProcess({ containerId: id, execId: "late", args: ["true"] }), Code.FailedPrecondition, "STOPPED");
    await client.deleteTask({ containerId: id });
    assert.ok(!existsSync(join(runtime.stateDir, "tasks", id)));
  });

  it("resolves user names in the container's rootfs: a spec's process.user.username at create, User.name at exec", async () => {
    mkdirSync(join(rootfs, "etc"), { recursive: true });
    writeFileSync(join(rootfs, "etc", "passwd"), "root:x:0:0::/root:/bin/sh\nsvc:x:2000:2001::/tmp:/bin/sh\n");
    writeFileSync(join(rootfs, "etc", "group"), "root:x:0:\nsvc:x:2001:\nextra:x:2002:svc\n");
    const ids = 'echo "$(id -u):$(id -g):$(id -G)"';
    const id = cid("users");
    await run(id, ["sh", "-c", `${ids}; exec sleep 1000`], { user: { uid: 0, gid: 0, username: "svc" } });
    await eventually(async () => text(await readAll(client, { containerId: id })) === "2000:2001:2001 2002\n", "the init process runs as svc");
    await client.execProcess({ containerId: id, execId: "named", args: ["sh", "-c", ids], user: { name: "svc:extra" } });
    assert.equal((await client.waitTask({ containerId: id, execId: "named" })).exitStatus?.exitCode, 0);
    assert.equal(text(await readAll(client, { containerId: id, execId: "named" })), "2000:2002:2002\n");
    await expectCode(client.execProcess({ containerId: id, execId: "ghost", args: ["true"], user: { name: "ghost" } }), Code.FailedPrecondition, "unable to find user ghost: no matching entries in passwd file");
    await expectCode(client.execProcess({ containerId: id, execId: "nul", args: ["true"], user: { name: "a\0b" } }), Code.InvalidArgument, "user.name");
    await client.killTask({ containerId: id, signal: 9 });
    await client.waitTask({ containerId: id });
    await client.deleteTask({ containerId: id });
    const unknown = cid("users-unknown");
    await storeContainer(unknown, ["true"], { user: { uid: 0, gid: 0, username: "svc:nogroup" } });
    await expectCode(client.createTask({ containerId: unknown }), Code.FailedPrecondition, "unable to find group nogroup: no matching entries in group file");
    await store.client().deleteContainer({ id: unknown });
  });

  it("pauses and resumes a task", async () => {
    const id = cid("pause");
    await run(id, ["sh", "-c", "while true; do echo tick; sleep 0.1; done"]);
    await expectCode(client.resumeTask({ containerId: id }), Code.FailedPrecondition, "RUNNING");
    const paused = (await client.pauseTask({ containerId: id })).task!;
    assert.equal(paused.status, Status.PAUSED);
    assert.equal((await client.getTask({ containerId: id })).task!.status, Status.PAUSED);
    await expectCode(client.pauseTask({ containerId: id }), Code.FailedPrecondition, "PAUSED");
    await expectCode(client.deleteTask({ containerId: id }), Code.FailedPrecondition, "PAUSED");
    await expectCode(client.execProcess({ containerId: id, execId: "x", args: ["true"] }), Code.FailedPrecondition, "PAUSED");
    // Frozen: no output while paused.
    const before = text(await readAll(client, { containerId: id })).length;
    await sleep(400);
    assert.equal(text(await readAll(client, { containerId: id })).length, before, "a paused task writes nothing");
    const resumed = (await client.resumeTask({ containerId: id })).task!;
    assert.equal(resumed.status, Status.RUNNING);
    await eventually(async () => text(await readAll(client, { containerId: id })).length > before, "output after resume");
    // A paused task ends with SIGKILL.
    await client.pauseTask({ containerId: id });
    await client.killTask({ containerId: id, signal: 9 });
    assert.equal((await client.waitTask({ containerId: id })).exitStatus?.exitCode, 137);
    await client.deleteTask({ containerId: id });
  });

  it("refuses calls in the wrong status", async () => {
    const id = cid("status");
    await storeContainer(id, ["sleep", "1000"]);
    await client.createTask({ containerId: id });
    await expectCode(client.createTask({ containerId: id }), Code.AlreadyExists);
    await expectCode(client.pauseTask({ containerId: id }), Code.FailedPrecondition, "CREATED");
    await expectCode(client.execProcess({ containerId: id, execId: "x", args: ["true"] }), Code.FailedPrecondition, "CREATED");
    await client.startTask({ containerId: id });
    await expectCode(client.startTask({ containerId: id }), Code.FailedPrecondition, "RUNNING");
    await expectCode(client.deleteTask({ containerId: id }), Code.FailedPrecondition, "RUNNING");
    await expectCode(client.killTask({ containerId: id, signal: 0 }), Code.InvalidArgument, "signal");
    await expectCode(client.killTask({ containerId: id, signal: 65 }), Code.InvalidArgument, "signal");
    await expectCode(client.killTask({ containerId: id, execId: "none", signal: 9 }), Code.NotFound);
    await client.killTask({ containerId: id, signal: 9 });
    await client.waitTask({ containerId: id });
    await expectCode(client.startTask({ containerId: id }), Code.FailedPrecondition, "STOPPED");
    await client.deleteTask({ containerId: id });
    await expectCode(client.deleteTask({ containerId: id }), Code.NotFound);

    // A created task is deleted too: its init process is killed first.
    const created = cid("created");
    await storeContainer(created, ["sleep", "1000"]);
    await client.createTask({ containerId: created });
    const deleted = await client.deleteTask({ containerId: created });
    assert.deepEqual([deleted.exitStatus?.exitCode, deleted.exitStatus?.signal], [137, "SIGKILL"]);
  });

  it("a wait on a created task lasts until it is started and exits, and honours its deadline", async () => {
    const id = cid("waitcreated");
    await storeContainer(id, ["sh", "-c", "exit 9"]);
    await client.createTask({ containerId: id });
    const waiting = client.waitTask({ containerId: id });
    await expectCode(client.waitTask({ containerId: id }, { timeoutMs: 200 }), Code.DeadlineExceeded);
    await sleep(200);
    await client.startTask({ containerId: id });
    assert.equal((await waiting).exitStatus?.exitCode, 9);
    await client.deleteTask({ containerId: id });
  });

  it("answers NOT_FOUND for unknown containers and tasks", async () => {
    await expectCode(client.createTask({ containerId: cid("nowhere") }), Code.NotFound, "container store");
    // One call at a time: a call started early would reject before anything awaits it.
    for (const call of [
      () => client.getTask({ containerId: cid("nowhere") }),
      () => client.startTask({ containerId: cid("nowhere") }),
      () => client.waitTask({ containerId: cid("nowhere") }),
      () => client.killTask({ containerId: cid("nowhere"), signal: 9 }),
      () => client.deleteTask({ containerId: cid("nowhere") }),
      () => client.pauseTask({ containerId: cid("nowhere") }),
      () => client.resumeTask({ containerId: cid("nowhere") }),
      () => client.execProcess({ containerId: cid("nowhere"), execId: "x", args: ["true"] }),
    ]) {
      await expectCode(call(), Code.NotFound);
    }
  });

  it("answers INVALID_ARGUMENT naming what is wrong with a spec, and leaves nothing behind", async () => {
    const cases: [string, Any | undefined, RegExp][] = [
      ["url", { $typeName: "google.protobuf.Any", typeUrl: "type.googleapis.com/example.Other", value: new Uint8Array() }, /^spec: type URL "type\.googleapis\.com\/example\.Other" is not/],
      ["badjson", anyPack(OciSpecSchema, create(OciSpecSchema, { json: new TextEncoder().encode("{not json") })), /^spec: json is not JSON/],
      ["array", anyPack(OciSpecSchema, create(OciSpecSchema, { json: new TextEncoder().encode("[1]") })), /^spec: json is not a JSON object/],
      ["empty", anyPack(OciSpecSchema, create(OciSpecSchema, { json: new Uint8Array() })), /^spec: json is empty/],
      ["version", spec({ ociVersion: "2.0.0" }), /^spec: ociVersion "2\.0\.0" is not a 1\.x version/],
      ["noargs", spec({ process: { ...baseProcess(), args: [] } }), /^spec: process\.args is empty/],
      ["terminal", spec({ process: { ...baseProcess(), terminal: "yes" } }), /^spec: process\.terminal is not a boolean/],
      ["relative", spec({ root: { path: "rootfs" } }), /^spec: root\.path "rootfs" is not absolute/],
      ["noroot", spec({ root: { path: join(scratch.dir, "no-such-rootfs") } }), /^spec: root\.path ".*no-such-rootfs": the rootfs does not exist/],
    ];
    for (const [name, any, message] of cases) {
      const id = cid(`bad-${name}`);
      await store.client().createContainer({ container: create(ContainerSchema, { id, runtime: { name: "runc" }, spec: any }) });
      const error = await expectCode(client.createTask({ containerId: id }), Code.InvalidArgument);
      assert.match(error.rawMessage, message, name);
      assert.ok(!existsSync(join(runtime.stateDir, "tasks", id)), `nothing is left behind for ${name}`);
    }
    // runc refuses what it cannot run: FAILED_PRECONDITION with runc's message, nothing left.
    const missing = cid("bad-program");
    await storeContainer(missing, ["no-such-program"]);
    await expectCode(client.createTask({ containerId: missing }), Code.FailedPrecondition, "no-such-program");
    assert.ok(!existsSync(join(runtime.stateDir, "tasks", missing)));
    await expectCode(client.getTask({ containerId: missing }), Code.NotFound);

    function baseProcess() {
      return buildOciSpec({ rootfs, args: ["true"] }).process;
    }
    function spec(overrides: Record<string, unknown>): Any {
      const document = { ...buildOciSpec({ rootfs, args: ["true"] }), ...overrides };
      return packOciSpec(new TextEncoder().encode(JSON.stringify(document)));
    }
  });

  it("never lets an id escape the run directory", async () => {
    for (const bad of ["../escape", "..", ".", "a/b", "/etc", "a..b", "", "x".repeat(77)]) {
      await expectCode(client.createTask({ containerId: bad }), Code.InvalidArgument, "container_id");
      await expectCode(client.getTask({ containerId: bad }), Code.InvalidArgument, "container_id");
      await expectCode(readAll(client, { containerId: bad }), Code.InvalidArgument, "container_id");
    }
    await expectCode(client.waitTask({ containerId: cid("x"), execId: "../../x" }), Code.InvalidArgument, "exec_id");
    assert.deepEqual(readdirSync(runtime.runDir).sort(), ["container-runtime", "container-runtime.sock"]);
  });

  it("lists tasks with a filter, in pages", async () => {
    const ids = [cid("list-a"), cid("list-b"), cid("list-c")];
    await run(ids[0]!, ["sleep", "1000"]);
    await run(ids[1]!, ["sleep", "1000"]);
    await storeContainer(ids[2]!, ["sleep", "1000"]);
    await client.createTask({ containerId: ids[2]! });
    const mine = `id~=^list-.*-${suffix}$`;
    const all = await client.listTasks({ filter: mine });
    assert.deepEqual(all.tasks.map((t) => t.containerId), ids);
    assert.equal(all.nextPageToken, "");
    const running = await client.listTasks({ filter: `${mine},status==running` });
    assert.deepEqual(running.tasks.map((t) => t.containerId), ids.slice(0, 2));
    assert.deepEqual((await client.listTasks({ filter: `${mine},status!=running` })).tasks.map((t) => t.containerId), [ids[2]]);
    const first = await client.listTasks({ filter: mine, pageSize: 2 });
    assert.deepEqual(first.tasks.map((t) => t.containerId), ids.slice(0, 2));
    assert.notEqual(first.nextPageToken, "");
    const second = await client.listTasks({ filter: mine, pageSize: 2, pageToken: first.nextPageToken });
    assert.deepEqual(second.tasks.map((t) => t.containerId), [ids[2]]);
    assert.equal(second.nextPageToken, "");
    await expectCode(client.listTasks({ filter: "status==running", pageToken: first.nextPageToken }), Code.InvalidArgument, "page_token");
    await expectCode(client.listTasks({ pageToken: "garbage" }), Code.InvalidArgument, "page_token");
    await expectCode(client.listTasks({ filter: "status==sleeping" }), Code.InvalidArgument, "filter");
    await expectCode(client.listTasks({ filter: "image==x" }), Code.InvalidArgument, "filter");
    await expectCode(client.listTasks({ filter: "id~=(" }), Code.InvalidArgument, "filter");
    await expectCode(client.listTasks({ filter: `id==${"x".repeat(1100)}` }), Code.InvalidArgument, "filter");
    for (const id of ids) {
      await client.killTask({ containerId: id, signal: 9 }).catch(() => {});
      await client.waitTask({ containerId: id });
      await client.deleteTask({ containerId: id });
    }
  });

  it("never signals the pid of an exec process that has ended but whose exit is not recorded yet", async () => {
    const id = cid("execgone");
    await run(id, ["sleep", "1000"]);
    const { process: exec } = await client.execProcess({ containerId: id, execId: "brief", args: ["sleep", "1000"] });
    const dir = join(runtime.stateDir, "tasks", id, "execs", "brief");
    const shim = JSON.parse(readFileSync(join(dir, "shim.json"), "utf8")) as { pid: number; startTime: string };
    // With its shim stopped, the ended exec process stays unreaped and no exit
    // file is written: the window in which its shim has not recorded the exit
    // and (once reaped) its pid may be another process's.
    process.kill(shim.pid, "SIGSTOP");
    try {
      await eventually(() => procState(shim.pid) === "T", "the shim to stop");
      process.kill(exec!.pid, "SIGKILL");
      await eventually(() => procState(exec!.pid) === "Z", "the exec process to end");
      assert.equal(existsSync(join(dir, "exit")), false, "no exit is recorded yet");
      await expectCode(client.killTask({ containerId: id, execId: "brief", signal: 15 }), Code.FailedPrecondition, '"brief" is STOPPED: it has exited');
    } finally {
      process.kill(shim.pid, "SIGCONT");
    }
    const waited = await client.waitTask({ containerId: id, execId: "brief" });
    assert.deepEqual([waited.exitStatus?.exitCode, waited.exitStatus?.signal], [137, "SIGKILL"]);
    await client.killTask({ containerId: id, signal: 9 });
    await client.waitTask({ containerId: id });
    await client.deleteTask({ containerId: id });
  });

  it("costs one small shim per running container, and no runc process", async (t) => {
    const id = cid("memory");
    const { started } = await run(id, ["sleep", "1000"]);
    const [shim] = runtime.shims().filter((s) => startTime(s.pid) === s.startTime && readFileSync(`/proc/${s.pid}/cmdline`, "utf8").includes(id));
    assert.ok(shim !== undefined, "the shim runs");
    const rss = statusKb(shim.pid, "VmRSS");
    const anon = statusKb(shim.pid, "RssAnon");
    const pss = Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${shim.pid}/smaps_rollup`, "utf8"))?.[1] ?? 0);
    t.diagnostic(`shim of a running container: VmRSS ${rss} kB, Pss ${pss} kB, RssAnon ${anon} kB (the rest is perl's shared text)`);
    assert.ok(rss < 16 * 1024, `the shim takes ${rss} kB`);
    // The container's init process is the shim's child; no runc stays behind.
    const parent = readFileSync(`/proc/${started.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1];
    assert.equal(Number(parent), shim.pid, "the shim is the parent of the container's init process");
    const children = spawnSync("ps", ["-o", "comm=", "--ppid", String(shim.pid)], { encoding: "utf8" }).stdout.trim().split("\n");
    assert.ok(!children.includes("runc"), `no runc process stays: ${children.join(",")}`);
    await client.killTask({ containerId: id, signal: 9 });
    await client.waitTask({ containerId: id });
    await client.deleteTask({ containerId: id });
  });

  it("finds its tasks again after a SIGKILL, with the exit of a task that ended meanwhile published once", async () => {
    const live = cid("survivor");
    const gone = cid("exits");
    const { started } = await run(live, ["sh", "-c", "echo up; exec sleep 1000"]);
    await run(gone, ["sh", "-c", "sleep 1; echo done; exit 5"]);
    await client.execProcess({ containerId: live, execId: "later", args: ["sh", "-c", "sleep 1; exit 6"] });
    const reader = new SubscriptionReader(events.client(), { start: StartPosition.OLDEST, filters: [`topic==/tasks/exit`] });

    await runtime.stop("SIGKILL");
    await sleep(2000); // the second task and the exec exit while the runtime is down
    await runtime.start();
    client = runtime.client();

    const survivor = (await client.getTask({ containerId: live })).task!;
    assert.equal(survivor.status, Status.RUNNING);
    assert.equal(survivor.pid, started.pid, "the same process");
    const exited = (await client.getTask({ containerId: gone })).task!;
    assert.equal(exited.status, Status.STOPPED);
    assert.equal(exited.exitStatus?.exitCode, 5);
    assert.equal((await client.waitTask({ containerId: gone })).exitStatus?.exitCode, 5);
    assert.equal(survivor.execs[0]?.exitStatus?.exitCode, 6, "the exec's exit too");
    assert.equal(text(await readAll(client, { containerId: gone })), "done\n");
    assert.equal(text(await readAll(client, { containerId: live })), "up\n");

    // The exits are published at least once: one the runtime has not yet
    // seen sent when it is killed is published again after the restart. So
    // before the next kill, wait until it recorded them as sent (it got
    // faster at answering the calls above, which made this window show).
    const marker = (...dirs: string[]) => join(runtime.stateDir, "tasks", ...dirs, "exit-published");
    await eventually(() => existsSync(marker(gone, "init")) && existsSync(marker(live, "execs", "later")), "the exits recorded as published");

    // A follow and a wait across another restart.
    const waiting = rejection(runtime.client().waitTask({ containerId: live }));
    await runtime.stop("SIGKILL");
    await waiting;
    await runtime.start();
    client = runtime.client();
    const waitAgain = client.waitTask({ containerId: live });
    await client.killTask({ containerId: live, signal: 9 });
    assert.equal((await waitAgain).exitStatus?.exitCode, 137);

    // /tasks/exit: once per process, across both restarts.
    await sleep(500);
    const envelopes: Envelope[] = [];
    for (;;) {
      try {
        const message = await reader.next(1500);
        if (message.envelope !== undefined) envelopes.push(message.envelope);
      } catch {
        break;
      }
    }
    reader.close();
    const exits = envelopes.map((e) => fromBinary(TaskExitSchema, e.event!.value)).filter((e) => e.containerId === live || e.containerId === gone);
    const summary = exits.map((e) => `${e.containerId}/${e.execId}:${e.exitStatus?.exitCode}:${e.exitStatus?.signal}`).sort();
    assert.deepEqual(summary, [`${gone}/:5:`, `${live}/:137:SIGKILL`, `${live}/later:6:`].sort());
    assert.ok(envelopes.every((e) => e.source === "container-runtime"));

    await client.deleteTask({ containerId: live });
    await client.deleteTask({ containerId: gone });
  });

  it("publishes /tasks events", async () => {
    const reader = new SubscriptionReader(events.client(), { start: StartPosition.NOW, filters: ["topic~=^/tasks/"] });
    await reader.progress();
    const id = cid("events");
    await run(id, ["sh", "-c", "exit 2"]);
    await client.waitTask({ containerId: id });
    await client.deleteTask({ containerId: id });
    const got = await reader.events(4);
    reader.close();
    assert.deepEqual(got.map((e) => e.topic), ["/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"]);
    assert.equal(fromBinary(TaskCreateSchema, got[0]!.event!.value).containerId, id);
    assert.equal(fromBinary(TaskExitSchema, got[2]!.event!.value).exitStatus?.exitCode, 2);
    assert.equal(fromBinary(TaskDeleteSchema, got[3]!.event!.value).exitStatus?.exitCode, 2);
  });

  it("publishes the events of create, start, exec, exec exit, kill, exit and delete in that order, exactly", async () => {
    const reader = new SubscriptionReader(events.client(), { start: StartPosition.NOW, filters: ["topic~=^/tasks/"] });
    await reader.progress();
    const id = cid("sequence");
    const { created } = await run(id, ["sleep", "1000"]);
    const pid = created.pid;
    // An exec that ends at once: its exit must still come after its start.
    const { process: exec } = await client.execProcess({ containerId: id, execId: "ex", args: ["echo", "from-exec"] });
    const execPid = exec!.pid;
    assert.equal((await client.waitTask({ containerId: id, execId: "ex" })).exitStatus?.exitCode, 0);
    // Deleting the exec process is not the task's delete: no event.
    await client.deleteTask({ containerId: id, execId: "ex" });
    await client.killTask({ containerId: id, signal: 9 });
    await client.waitTask({ containerId: id });
    await client.deleteTask({ containerId: id });
    const summarize = (envelope: Envelope): unknown[] => {
      const value = envelope.event!.value;
      switch (envelope.topic) {
        case "/tasks/create": {
          const event = fromBinary(TaskCreateSchema, value);
          return [envelope.topic, event.containerId, event.pid];
        }
        case "/tasks/start": {
          const event = fromBinary(TaskStartSchema, value);
          return [envelope.topic, event.containerId, event.pid];
        }
        case "/tasks/exec-added": {
          const event = fromBinary(TaskExecAddedSchema, value);
          return [envelope.topic, event.containerId, event.execId];
        }
        case "/tasks/exec-started": {
          const event = fromBinary(TaskExecStartedSchema, value);
          return [envelope.topic, event.containerId, event.execId, event.pid];
        }
        case "/tasks/exit": {
          const event = fromBinary(TaskExitSchema, value);
          return [envelope.topic, event.containerId, event.execId, event.pid, event.exitStatus?.exitCode, event.exitStatus?.signal];
        }
        case "/tasks/delete": {
          const event = fromBinary(TaskDeleteSchema, value);
          return [envelope.topic, event.containerId, event.pid, event.exitStatus?.exitCode];
        }
        default:
          // Every /tasks payload has container_id as field 1; TaskPaused is the smallest such message.
          return [envelope.topic, fromBinary(TaskPausedSchema, value).containerId];
      }
    };
    const expected = [
      ["/tasks/create", id, pid],
      ["/tasks/start", id, pid],
      ["/tasks/exec-added", id, "ex"],
      ["/tasks/exec-started", id, "ex", execPid],
      ["/tasks/exit", id, "ex", execPid, 0, ""],
      ["/tasks/exit", id, "", pid, 137, "SIGKILL"],
      ["/tasks/delete", id, pid, 137],
    ];
    // This container's events (another test's late ones are skipped), and
    // then a second more, so that an event too many (an exec's
    // /tasks/delete, a second exit) shows up too.
    const got: unknown[][] = [];
    let quietUntil = Infinity;
    for (;;) {
      const left = Math.min(quietUntil, Date.now() + 15_000) - Date.now();
      if (left <= 0) break;
      const message = await reader.next(left).catch(() => undefined);
      if (message === undefined) break;
      if (message.envelope === undefined) continue;
      const summary = summarize(message.envelope);
      if (summary[1] !== id) continue;
      got.push(summary);
      if (got.length === expected.length) quietUntil = Date.now() + 1000;
    }
    reader.close();
    assert.deepEqual(got, expected);
  });

  describe("restart policies", () => {
    /** Stores a container running args with a restart policy in its runtime options, creates and starts its task. */
    async function runWithPolicy(id: string, args: string[], mode: RestartMode, maxRetries = 0) {
      const options = anyPack(RuntimeOptionsSchema, create(RuntimeOptionsSchema, { restartPolicy: { mode, maxRetries } }));
      await store.client().createContainer({
        container: create(ContainerSchema, { id, runtime: { name: "runc", options }, spec: packOciSpec({ rootfs, args }) }),
      });
      await client.createTask({ containerId: id });
      return (await client.startTask({ containerId: id })).task!;
    }
    const task = async (id: string) => (await client.getTask({ containerId: id })).task!;
    /** Resolves once the task is stopped and no restart is pending. */
    const settled = (id: string) => eventually(async () => {
      const t = await task(id);
      return t.status === Status.STOPPED && t.restartTime === undefined;
    }, `${id} stopped for good`, 30_000);

    it("restarts on failure up to max_retries, with /tasks/exit, delete, create and start each time, then stays stopped", async () => {
      const reader = new SubscriptionReader(events.client(), { start: StartPosition.NOW, filters: ["topic~=^/tasks/"] });
      await reader.progress();
      const id = cid("onfail");
      const first = await runWithPolicy(id, ["sh", "-c", "echo run; exit 3"], RestartMode.ON_FAILURE, 2);
      assert.equal(first.restartCount, 0);
      assert.deepEqual([first.restartPolicy?.mode, first.restartPolicy?.maxRetries], [RestartMode.ON_FAILURE, 2]);
      await settled(id);
      const last = await task(id);
      assert.equal(last.restartCount, 2);
      assert.equal(last.exitStatus?.exitCode, 3);
      assert.notEqual(last.pid, first.pid, "a new init process");
      assert.equal(text(await readAll(client, { containerId: id })), "run\n", "the last run's output");
      const topics: string[] = [];
      while (topics.length < 11) {
        const envelope = (await reader.next(10_000)).envelope;
        if (envelope !== undefined && fromBinary(TaskPausedSchema, envelope.event!.value).containerId === id) topics.push(envelope.topic);
      }
      reader.close();
      const run = ["/tasks/create", "/tasks/start", "/tasks/exit"];
      assert.deepEqual(topics, [...run, "/tasks/delete", ...run, "/tasks/delete", ...run]);
      await client.deleteTask({ containerId: id });
    });

    it("does not restart on failure after exit 0, and restarts always whatever the code", async () => {
      const zero = cid("onfail0");
      await runWithPolicy(zero, ["true"], RestartMode.ON_FAILURE);
      const always = cid("always");
      const first = await runWithPolicy(always, ["sh", "-c", "sleep 0.2"], RestartMode.ALWAYS);
      await eventually(async () => (await task(always)).restartCount >= 2, "restarted twice after exit 0");
      await settled(zero);
      assert.equal((await task(zero)).restartCount, 0);
      assert.notEqual((await task(always)).pid, first.pid);
      // A client's KillTask stops it for good, whether it runs or waits for its restart.
      await client.killTask({ containerId: always, signal: 9 }).catch((error: unknown) => {
        if (!(error instanceof ConnectError && error.code === Code.FailedPrecondition)) throw error;
      });
      await settled(always);
      const count = (await task(always)).restartCount;
      await sleep(1000);
      assert.equal((await task(always)).restartCount, count, "no restart after the client's kill");
      await client.deleteTask({ containerId: zero });
      await client.deleteTask({ containerId: always });
    });

    it("cancels a pending restart with KillTask and with DeleteTask", async () => {
      // The wait doubles from 100 ms: after a few quick exits a restart is pending long enough to see.
      const killed = cid("pendkill");
      await runWithPolicy(killed, ["sh", "-c", "exit 1"], RestartMode.ON_FAILURE);
      await eventually(async () => {
        const t = await task(killed);
        return t.restartCount >= 4 && t.restartTime !== undefined;
      }, "a restart pending after 4 restarts");
      await client.killTask({ containerId: killed, signal: 15 });
      const after = await task(killed);
      assert.equal(after.restartTime, undefined, "the pending restart is cancelled");
      assert.equal(after.status, Status.STOPPED);
      await sleep(2500);
      assert.equal((await task(killed)).restartCount, after.restartCount, "and never happens");
      await client.deleteTask({ containerId: killed });

      const deleted = cid("penddel");
      await runWithPolicy(deleted, ["sh", "-c", "exit 1"], RestartMode.UNLESS_STOPPED);
      await eventually(async () => {
        const t = await task(deleted);
        return t.restartCount >= 4 && t.restartTime !== undefined;
      }, "a restart pending after 4 restarts");
      await client.deleteTask({ containerId: deleted });
      await sleep(2500);
      await expectCode(client.getTask({ containerId: deleted }), Code.NotFound);
    });

    it("after the runtime restarts, restarts an always task a client stopped, but not an unless-stopped one", async () => {
      const always = cid("rsalways");
      const unless = cid("rsunless");
      await runWithPolicy(always, ["sleep", "1000"], RestartMode.ALWAYS);
      await runWithPolicy(unless, ["sleep", "1000"], RestartMode.UNLESS_STOPPED);
      for (const id of [always, unless]) {
        await client.killTask({ containerId: id, signal: 9 });
        await client.waitTask({ containerId: id });
      }
      await sleep(500);
      assert.deepEqual([(await task(always)).restartCount, (await task(unless)).restartCount], [0, 0]);
      await runtime.stop("SIGTERM");
      await runtime.start();
      client = runtime.client();
      await eventually(async () => (await task(always)).status === Status.RUNNING, "the always task running again");
      assert.equal((await task(always)).restartCount, 1);
      const stopped = await task(unless);
      assert.deepEqual([stopped.status, stopped.restartCount, stopped.restartTime], [Status.STOPPED, 0, undefined]);
      await client.killTask({ containerId: always, signal: 9 });
      await settled(always);
      await client.deleteTask({ containerId: always });
      await client.deleteTask({ containerId: unless });
    });

    it("refuses runtime options of another type, naming the field, and creates nothing", async () => {
      const id = cid("badopts");
      await store.client().createContainer({
        container: create(ContainerSchema, { id, runtime: { name: "runc", options: packOciSpec({ rootfs, args: ["true"] }) }, spec: packOciSpec({ rootfs, args: ["true"] }) }),
      });
      await expectCode(client.createTask({ containerId: id }), Code.InvalidArgument, /^container\.runtime\.options: type URL/);
      await expectCode(client.getTask({ containerId: id }), Code.NotFound);
    });
  });

  describe("interactive I/O and Attach", () => {
    /** Opens an Attach call on process and waits for its AttachReady. */
    async function attach(start: MessageInitShape<typeof AttachStartSchema>, via: RuntimeClient = client): Promise<Attached> {
      const attached = new Attached(via, start);
      await attached.ready;
      return attached;
    }

    it("feeds an open stdin from Attach and closes it with close_stdin (docker run -i)", async () => {
      const id = cid("stdin");
      await storeContainer(id, ["sh", "-c", "cat; echo cat-ended"]);
      await client.createTask({ containerId: id, stdin: true });
      const session = await attach({ containerId: id, stdin: true, logs: true });
      assert.deepEqual(session.readyMessage, { stdin: true, terminal: false });
      await client.startTask({ containerId: id });
      session.send({ case: "stdin", value: Buffer.from("first line\n") });
      await session.until("first line\n");
      session.send({ case: "stdin", value: Buffer.from("no newline") });
      session.send({ case: "closeStdin", value: true });
      await session.ended;
      assert.equal(session.text, "first line\nno newlinecat-ended\n");
      assert.equal((await client.waitTask({ containerId: id })).exitStatus?.exitCode, 0);
      await client.deleteTask({ containerId: id });
    });

    it("runs a shell on a terminal: input, resize, two readers each with all output, the exit code", async () => {
      const id = cid("tty");
      await storeContainer(id, ["sh"], { terminal: true, consoleSize: { height: 24, width: 80 } });
      const { task } = await client.createTask({ containerId: id, stdin: true });
      const first = await attach({ containerId: id, stdin: true, logs: true });
      assert.deepEqual(first.readyMessage, { stdin: true, terminal: true });
      await client.startTask({ containerId: id });
      await first.until("# ");
      const second = await attach({ containerId: id }, runtime.client());
      assert.deepEqual(second.readyMessage, { stdin: false, terminal: true });
      first.send({ case: "stdin", value: Buffer.from("stty size; tty; echo $((40+2))\n") });
      await first.until("\n42\r\n");
      assert.match(first.text, /\r\n24 80\r\n\/dev\/pts\/0\r\n/, "the first size from the spec, the terminal on stdin");
      await second.until("\n42\r\n");
      first.send({ case: "resize", value: create(TerminalSizeSchema, { rows: 33, columns: 101 }) });
      first.send({ case: "stdin", value: Buffer.from("stty size\n") });
      await first.until("33 101");
      // Ctrl-C reaches the foreground program through the terminal.
      first.send({ case: "stdin", value: Buffer.from("sleep 1000\n") });
      await eventually(() => childrenOf(task!.pid).includes("sleep"), "sleep running in the foreground of the shell");
      first.send({ case: "stdin", value: Buffer.from("\x03") });
      first.send({ case: "stdin", value: Buffer.from("echo status=$?\n") });
      await first.until("status=130");
      first.send({ case: "stdin", value: Buffer.from("exit 5\n") });
      await Promise.all([first.ended, second.ended]);
      assert.ok(second.text.includes("33 101") && second.text.includes("status=130"), `the second reader got all output: ${JSON.stringify(second.text)}`);
      assert.equal((await client.waitTask({ containerId: id })).exitStatus?.exitCode, 5);
      const logs = text(await readAll(client, { containerId: id }));
      assert.ok(logs.includes("status=130"), "terminal output is kept as stdout");
      await client.deleteTask({ containerId: id });
    });

    it("runs an exec process on a terminal of its own (docker exec -it)", async () => {
      const id = cid("exectty");
      await run(id, ["sleep", "1000"]);
      await client.execProcess({ containerId: id, execId: "shell", args: ["sh"], terminal: true, stdin: true });
      const session = await attach({ containerId: id, execId: "shell", stdin: true, logs: true });
      assert.deepEqual(session.readyMessage, { stdin: true, terminal: true });
      session.send({ case: "stdin", value: Buffer.from("tty; exit 7\n") });
      await session.ended;
      assert.match(session.text, /\/dev\/pts\/\d+\r\n/);
      assert.equal((await client.waitTask({ containerId: id, execId: "shell" })).exitStatus?.exitCode, 7);
      await client.killTask({ containerId: id, signal: 9 });
      await client.waitTask({ containerId: id });
      await client.deleteTask({ containerId: id });
    });

    it("attaches to a process started before the runtime restarted, input included", async () => {
      const id = cid("reattach");
      await storeContainer(id, ["cat"]);
      await client.createTask({ containerId: id, stdin: true });
      await client.startTask({ containerId: id });
      const before = await attach({ containerId: id, stdin: true });
      before.send({ case: "stdin", value: Buffer.from("before\n") });
      await before.until("before\n");
      await runtime.stop("SIGKILL");
      await runtime.start();
      client = runtime.client();
      const session = await attach({ containerId: id, stdin: true });
      assert.deepEqual(session.readyMessage, { stdin: true, terminal: false });
      session.send({ case: "stdin", value: Buffer.from("after\n") });
      await session.until("after\n");
      assert.equal(session.text, "after\n", "without logs, only output written after the call");
      session.send({ case: "closeStdin", value: true });
      await session.ended;
      assert.equal((await client.waitTask({ containerId: id })).exitStatus?.exitCode, 0);
      const again = await attach({ containerId: id, stdin: true, logs: true });
      assert.equal(again.readyMessage.stdin, false, "a closed stdin is reported closed");
      await again.ended;
      assert.equal(again.text, "before\nafter\n");
      await client.deleteTask({ containerId: id });
    });

    it("refuses bad Attach requests with the code and field", async () => {
      const id = cid("attachbad");
      await run(id, ["sleep", "1000"]);
      const noStart = new Attached(client, undefined, [{ case: "stdin", value: Buffer.from("x") }]);
      await expectCode(noStart.ended, Code.InvalidArgument, "AttachStart");
      await expectCode(new Attached(client, { containerId: "bad id" }).ended, Code.InvalidArgument, "container_id");
      await expectCode(new Attached(client, { containerId: cid("none") }).ended, Code.NotFound);
      const notOpen = await attach({ containerId: id, stdin: true });
      assert.equal(notOpen.readyMessage.stdin, false);
      notOpen.send({ case: "stdin", value: Buffer.from("x") });
      await expectCode(notOpen.ended, Code.FailedPrecondition, "is not open");
      const noTerminal = await attach({ containerId: id });
      noTerminal.send({ case: "resize", value: create(TerminalSizeSchema, { rows: 10, columns: 10 }) });
      await expectCode(noTerminal.ended, Code.FailedPrecondition, "has no terminal");
      await client.killTask({ containerId: id, signal: 9 });
      await client.waitTask({ containerId: id });
      await client.deleteTask({ containerId: id });
    });
  });

  describe("without runc, or not as root", () => {
    for (const [name, env] of [
      ["MOBY_RUNC names no file", { MOBY_RUNC: "/nonexistent/runc" }],
      ["PATH has no runc", { PATH: join(scratch.dir, "empty-path") }],
    ] as const) {
      it(`serves, NOT_SERVING, and fails every call with how to fix it (${name})`, async () => {
        mkdirSync(join(scratch.dir, "empty-path"), { recursive: true });
        const broken = new Runtime(`norunc-${name.split(" ")[0]!.toLowerCase()}`, { MOBY_ENDPOINT_CONTAINER_STORE: store.socketPath, ...env });
        try {
          const child = await broken.start(false);
          const health = broken.dial().client(Health);
          await eventually(async () => (await health.check({ service: ContainerRuntimeService.typeName })).status === HealthCheckResponse_ServingStatus.NOT_SERVING, "NOT_SERVING");
          const rt = broken.client();
          await expectCode(rt.createTask({ containerId: cid("x") }), Code.FailedPrecondition, "install runc");
          await expectCode(rt.getTask({ containerId: cid("x") }), Code.FailedPrecondition, "install runc");
          await expectCode(rt.listTasks({}), Code.FailedPrecondition, "install runc");
          await sleep(1500);
          let exited = false;
          void child.exited.then(() => (exited = true));
          await sleep(50);
          assert.equal(exited, false, "the component keeps running");
          assert.equal((await health.check({ service: ContainerRuntimeService.typeName })).status, HealthCheckResponse_ServingStatus.NOT_SERVING);
          assert.equal((await health.check({ service: "" })).status, HealthCheckResponse_ServingStatus.SERVING);
        } finally {
          await broken.cleanup();
        }
      });
    }

    it("serves, NOT_SERVING, and says it must run as root when it is not root", { skip: existsSync("/usr/bin/setpriv") ? false : "needs setpriv" }, async () => {
      // A directory the unprivileged user can write its socket and state in.
      const dir = mkdtempSync(join(tmpdir(), "moby-rt-nonroot-"));
      chmodSync(dir, 0o777);
      const socketPath = join(dir, "rt.sock");
      const child = spawn("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "packages/container-runtime/bin/moby-container-runtime.js"], {
        cwd: repoRoot,
        stdio: "ignore",
        env: { ...process.env, MOBY_SOCKET: socketPath, MOBY_RUN_DIR: dir, MOBY_COMPONENT_NAME: "container-runtime", MOBY_LOG_LEVEL: "warn", MOBY_REGISTRY_ENDPOINT: "" },
      });
      let exited = false;
      child.once("exit", () => (exited = true));
      const connection = dialSocket(socketPath, { retry: false });
      try {
        await eventually(() => existsSync(socketPath) || exited, "the socket");
        assert.equal(exited, false);
        const health = connection.client(Health);
        await eventually(async () => (await health.check({ service: ContainerRuntimeService.typeName }).catch(() => undefined))?.status === HealthCheckResponse_ServingStatus.NOT_SERVING, "NOT_SERVING");
        await expectCode(connection.client(ContainerRuntimeService).createTask({ containerId: cid("x") }), Code.FailedPrecondition, "must run as root");
        assert.equal(exited, false, "the component keeps running");
      } finally {
        connection.close();
        child.kill("SIGKILL");
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
