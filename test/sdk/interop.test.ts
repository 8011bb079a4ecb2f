// The SDK speaks plain gRPC with third-party peers, in all four directions:
// its server answers @grpc/grpc-js clients and `buf curl` (by reflection,
// with no schema), and its client calls a plain @grpc/grpc-js server as well
// as an SDK server. Every peer runs as a real process on a unix socket.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { ComponentService } from "@moby-core/component-api/v1";
import { Health, HealthCheckResponse_ServingStatus } from "@moby-core/grpc-health-api/v1";
import { Code, ConnectError, dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { GreeterService } from "../../examples/hello-component/gen/hello/v1/hello_pb.js";
import { scratchDirectory, startHello } from "../support/component-process.js";
import type { ComponentProcess, Exit } from "../support/component-process.js";
import { repoRoot, run } from "../support/contract-copy.js";

const HEALTH_PROTO_DIR = join(repoRoot, "node_modules/grpc-health-check/proto");
const HELLO_PROTO_DIR = join(repoRoot, "examples/hello-component/proto");

/** The services every hello component serves, sorted by name. */
const HELLO_SERVICES = [
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "hello.v1.GreeterService",
  "moby.component.v1.ComponentService",
];

/** How long a single call may take before the test fails instead of hanging. */
const CALL_DEADLINE_MS = 5000;

// ---------------------------------------------------------------------------
// @grpc/grpc-js clients, from the third-party .proto files.

const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

type GrpcClientClass = new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client;

/** The grpc-js client class of a service in a .proto file found under includeDir. */
function grpcClientClass(includeDir: string, file: string, service: string): GrpcClientClass {
  const definition = protoLoader.loadSync(file, { ...LOADER_OPTIONS, includeDirs: [includeDir] });
  let node: unknown = grpc.loadPackageDefinition(definition);
  for (const part of service.split(".")) node = (node as Record<string, unknown>)[part];
  assert.equal(typeof node, "function", `${service} not found in ${file}`);
  return node as GrpcClientClass;
}

const GrpcHealthClient = grpcClientClass(HEALTH_PROTO_DIR, "health/v1/health.proto", "grpc.health.v1.Health");
const GrpcGreeterClient = grpcClientClass(HELLO_PROTO_DIR, "hello/v1/hello.proto", "hello.v1.GreeterService");

/** The method of a client loaded from a .proto file, by its name in the .proto. */
type GrpcMethod = (this: grpc.Client, request: object, options: grpc.CallOptions, callback?: grpc.requestCallback<unknown>) => unknown;
function method(client: grpc.Client, name: string): GrpcMethod {
  const fn = (client as unknown as Record<string, GrpcMethod | undefined>)[name];
  assert.equal(typeof fn, "function", `the client has no method ${name}`);
  return fn!;
}

/** A grpc-js unary call as a promise, with a deadline. */
function unary<T>(client: grpc.Client, name: string, request: object): Promise<T> {
  return new Promise((resolve, reject) => {
    method(client, name).call(client, request, { deadline: Date.now() + CALL_DEADLINE_MS }, (error, response) =>
      error ? reject(error) : resolve(response as T),
    );
  });
}

/** Starts a grpc-js server-streaming call, with a deadline. */
function serverStream<T>(client: grpc.Client, name: string, request: object): grpc.ClientReadableStream<T> {
  return method(client, name).call(client, request, { deadline: Date.now() + CALL_DEADLINE_MS }) as grpc.ClientReadableStream<T>;
}

/** Every message of a grpc-js server stream that ends OK. */
function collect<T>(stream: grpc.ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    stream.on("data", (item: T) => items.push(item));
    stream.on("error", reject);
    stream.on("end", () => resolve(items));
  });
}

/** Asserts that a grpc-js call failed with code and, when given, details. */
async function rejectsWithStatus(call: Promise<unknown>, code: grpc.status, details?: string): Promise<void> {
  await assert.rejects(call, (error: grpc.ServiceError) => {
    assert.equal(error.code, code, error.message);
    if (details !== undefined) assert.equal(error.details, details);
    return true;
  });
}

// ---------------------------------------------------------------------------
// A plain @grpc/grpc-js server, in its own process.

/** The source of the plain grpc-js server: Health from grpc-health-check, GreeterService by hand. */
const GRPC_JS_SERVER = `
import grpc from "@grpc/grpc-js";
import protoLoader from "@grpc/proto-loader";
import { HealthImplementation } from "grpc-health-check";

const definition = protoLoader.loadSync("hello/v1/hello.proto", {
  keepCase: true, longs: Number, enums: String, defaults: true, includeDirs: [process.env.HELLO_PROTO_DIR],
});
const hello = grpc.loadPackageDefinition(definition).hello.v1;
const server = new grpc.Server();
new HealthImplementation({
  "": "SERVING",
  "hello.v1.GreeterService": "SERVING",
  "other.v1.Resting": "NOT_SERVING",
}).addToServer(server);
server.addService(hello.GreeterService.service, {
  SayHello(call, callback) {
    if (call.request.name === "nobody") {
      callback({ code: grpc.status.NOT_FOUND, details: "no one here is called nobody" });
      return;
    }
    callback(null, { greeting: "Hi " + call.request.name + ", from grpc-js" });
  },
  StreamGreetings(call) {
    for (let number = 1; number <= call.request.count; number++) {
      call.write({ greeting: "Hi #" + number + ", " + call.request.name, number });
    }
    call.end();
  },
});
server.bindAsync("unix:" + process.env.SOCKET, grpc.ServerCredentials.createInsecure(), (error) => {
  if (error) {
    console.error(error);
    process.exit(1);
  }
  console.log("ready");
});
`;

/** A plain grpc-js server process serving on socketPath. */
class GrpcJsServer {
  output = "";
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;

  constructor(socketPath: string) {
    this.child = spawn(process.execPath, ["--input-type=module", "-e", GRPC_JS_SERVER], {
      cwd: repoRoot,
      env: { ...process.env, SOCKET: socketPath, HELLO_PROTO_DIR },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.child.stderr!.on("data", (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
  }

  /** Resolves once the server said it listens; rejects if it exits first or after timeoutMs. */
  ready(timeoutMs = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`grpc-js server not ready within ${timeoutMs} ms:\n${this.output}`)), timeoutMs);
      const onData = () => {
        if (this.output.split("\n").includes("ready")) finish();
      };
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.child.stdout!.off("data", onData);
        if (error) reject(error);
        else resolve();
      };
      this.child.stdout!.on("data", onData);
      void this.exited.then(() => finish(new Error(`grpc-js server exited before it was ready:\n${this.output}`)));
      onData();
    });
  }

  /** Sends SIGTERM and waits for the process to exit. */
  async stop(): Promise<Exit> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    return this.exited;
  }
}

// ---------------------------------------------------------------------------

describe("SDK server <- @grpc/grpc-js client", () => {
  const scratch = scratchDirectory();
  const socketPath = join(scratch.dir, "hello.sock");
  let component: ComponentProcess;
  let health: grpc.Client;
  let greeter: grpc.Client;

  before(async () => {
    component = await startHello(socketPath);
    health = new GrpcHealthClient(`unix:${socketPath}`, grpc.credentials.createInsecure());
    greeter = new GrpcGreeterClient(`unix:${socketPath}`, grpc.credentials.createInsecure());
  });

  after(async () => {
    health?.close();
    greeter?.close();
    await component?.stop();
    scratch.remove();
  });

  it("Check reports the server and GreeterService SERVING", async () => {
    assert.deepEqual(await unary(health, "Check", { service: "" }), { status: "SERVING" });
    assert.deepEqual(await unary(health, "Check", { service: "hello.v1.GreeterService" }), { status: "SERVING" });
  });

  it("Check of an unknown service fails with NOT_FOUND", async () => {
    await rejectsWithStatus(unary(health, "Check", { service: "no.such.Service" }), grpc.status.NOT_FOUND, 'unknown service "no.such.Service"');
  });

  it("SayHello answers with the greeting", async () => {
    assert.deepEqual(await unary(greeter, "SayHello", { name: "grpc-js" }), { greeting: "Hello, grpc-js!" });
  });

  it("SayHello with no name fails with INVALID_ARGUMENT, the message exactly as thrown", async () => {
    // The SDK sends grpc-message in the spec's encoding, which grpc-js decodes with decodeURI.
    await rejectsWithStatus(unary(greeter, "SayHello", { name: "" }), grpc.status.INVALID_ARGUMENT, "name: required");
  });

  it("StreamGreetings sends count greetings", async () => {
    const greetings = await collect<{ greeting: string; number: number }>(
      serverStream(greeter, "StreamGreetings", { name: "grpc-js", count: 3, interval: { seconds: "0", nanos: 5_000_000 } }),
    );
    assert.deepEqual(greetings, [
      { greeting: "Hello, grpc-js!", number: 1 },
      { greeting: "Hello again, grpc-js! (2)", number: 2 },
      { greeting: "Hello again, grpc-js! (3)", number: 3 },
    ]);
  });
});

describe("SDK server <- @grpc/grpc-js health Watch across shutdown", () => {
  const scratch = scratchDirectory();
  const socketPath = join(scratch.dir, "hello.sock");
  let component: ComponentProcess | undefined;
  let health: grpc.Client | undefined;

  after(async () => {
    health?.close();
    await component?.stop();
    scratch.remove();
  });

  it("Watch sees SERVING, then NOT_SERVING on SIGTERM, then the stream ends UNAVAILABLE", async () => {
    component = await startHello(socketPath);
    health = new GrpcHealthClient(`unix:${socketPath}`, grpc.credentials.createInsecure());
    const watch = serverStream<{ status: string }>(health, "Watch", { service: "" });
    const statuses: string[] = [];
    let firstAnswer: () => void = () => {};
    const answered = new Promise<void>((resolve) => (firstAnswer = resolve));
    watch.on("data", ({ status }: { status: string }) => {
      statuses.push(status);
      firstAnswer();
    });
    watch.on("error", () => {}); // the final status is read from "status" below
    const ended = new Promise<grpc.StatusObject>((resolve) => watch.on("status", resolve));

    await answered;
    assert.deepEqual(statuses, ["SERVING"]);
    const exit = await component.stop("SIGTERM");
    const status = await ended;

    assert.deepEqual(statuses, ["SERVING", "NOT_SERVING"]);
    assert.equal(status.code, grpc.status.UNAVAILABLE, status.details);
    assert.equal(status.details, "component is shutting down");
    assert.deepEqual(exit, { code: 0, signal: null }, component.output);
  });
});

describe("SDK server <- buf curl, by reflection with no schema", () => {
  const scratch = scratchDirectory();
  const socketPath = join(scratch.dir, "hello.sock");
  let component: ComponentProcess;

  before(async () => {
    component = await startHello(socketPath);
  });

  after(async () => {
    await component?.stop();
    scratch.remove();
  });

  /** Runs `buf curl` over the component's socket with gRPC and reflection. */
  function bufCurl(...args: string[]) {
    return run("buf", ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--unix-socket", socketPath, ...args], repoRoot);
  }

  it("GetInfo names the component and its four services", () => {
    const result = bufCurl("http://localhost/moby.component.v1.ComponentService/GetInfo");
    assert.equal(result.status, 0, result.stderr);
    const { info } = JSON.parse(result.stdout) as { info: { name: string; version: string; services: { name: string }[] } };
    assert.equal(info.name, "hello");
    assert.equal(info.version, "0.1.0");
    assert.deepEqual(info.services.map((s) => s.name).sort(), HELLO_SERVICES);
  });

  it("--list-services lists the four services", () => {
    const result = bufCurl("--list-services", "http://localhost");
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(result.stdout.split("\n").filter((line) => line !== "").sort(), HELLO_SERVICES);
  });

  it("SayHello answers with the greeting", () => {
    const result = bufCurl("-d", '{"name":"buf"}', "http://localhost/hello.v1.GreeterService/SayHello");
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { greeting: "Hello, buf!" });
  });

  it("an invalid request fails with invalid_argument naming the field", () => {
    const result = bufCurl("-d", '{"name":""}', "http://localhost/hello.v1.GreeterService/SayHello");
    assert.notEqual(result.status, 0);
    assert.deepEqual(JSON.parse(result.stderr), { code: "invalid_argument", message: "name: required" });
  });

  it("grpc.health.v1.Health/Check reports SERVING", () => {
    const result = bufCurl("-d", "{}", "http://localhost/grpc.health.v1.Health/Check");
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { status: "SERVING" });
  });
});

describe("SDK client -> plain @grpc/grpc-js server", () => {
  const scratch = scratchDirectory();
  const socketPath = join(scratch.dir, "grpc-js.sock");
  let server: GrpcJsServer;
  let connection: Connection;

  before(async () => {
    server = new GrpcJsServer(socketPath);
    await server.ready();
    connection = dialSocket(socketPath, { timeoutMs: CALL_DEADLINE_MS });
  });

  after(async () => {
    connection?.close();
    await server?.stop();
    scratch.remove();
  });

  it("Health.check reads the statuses grpc-health-check serves", async () => {
    const health = connection.client(Health);
    assert.equal((await health.check({ service: "" })).status, HealthCheckResponse_ServingStatus.SERVING);
    assert.equal((await health.check({ service: "hello.v1.GreeterService" })).status, HealthCheckResponse_ServingStatus.SERVING);
    assert.equal((await health.check({ service: "other.v1.Resting" })).status, HealthCheckResponse_ServingStatus.NOT_SERVING);
    await assert.rejects(health.check({ service: "no.such.Service" }), (error: unknown) => {
      assert.ok(error instanceof ConnectError);
      assert.equal(error.code, Code.NotFound);
      return true;
    });
  });

  it("waitForHealthy resolves over grpc-health-check's Watch", async () => {
    await connection.waitForHealthy("", CALL_DEADLINE_MS);
    await connection.waitForHealthy("hello.v1.GreeterService", CALL_DEADLINE_MS);
  });

  it("SayHello answers with the grpc-js server's greeting", async () => {
    const { greeting } = await connection.client(GreeterService).sayHello({ name: "sdk" });
    assert.equal(greeting, "Hi sdk, from grpc-js");
  });

  it("StreamGreetings yields every message the server writes", async () => {
    const greetings: [string, number][] = [];
    for await (const { greeting, number } of connection.client(GreeterService).streamGreetings({ name: "sdk", count: 4 })) {
      greetings.push([greeting, number]);
    }
    assert.deepEqual(greetings, [
      ["Hi #1, sdk", 1],
      ["Hi #2, sdk", 2],
      ["Hi #3, sdk", 3],
      ["Hi #4, sdk", 4],
    ]);
  });

  it("a grpc-js NOT_FOUND arrives as a ConnectError with its code and message", async () => {
    await assert.rejects(connection.client(GreeterService).sayHello({ name: "nobody" }), (error: unknown) => {
      assert.ok(error instanceof ConnectError, String(error));
      assert.equal(error.code, Code.NotFound);
      assert.equal(error.rawMessage, "no one here is called nobody");
      return true;
    });
  });
});

describe("SDK client -> SDK server", () => {
  const scratch = scratchDirectory();
  const socketPath = join(scratch.dir, "hello.sock");
  let component: ComponentProcess;
  let connection: Connection;

  before(async () => {
    component = await startHello(socketPath);
    connection = dialSocket(socketPath, { timeoutMs: CALL_DEADLINE_MS });
    await connection.waitForHealthy("", CALL_DEADLINE_MS);
  });

  after(async () => {
    connection?.close();
    await component?.stop();
    scratch.remove();
  });

  it("GetInfo tells who the component is", async () => {
    const { info } = await connection.client(ComponentService).getInfo({});
    assert.ok(info);
    assert.equal(info.name, "hello");
    assert.equal(info.version, "0.1.0");
    assert.equal(info.pid, component.pid);
    assert.equal(info.configGeneration, 1n);
    assert.deepEqual(
      info.services.map(({ name, apiVersion }) => ({ name, apiVersion })),
      HELLO_SERVICES.map((name) => ({ name, apiVersion: "v1" })),
    );
  });

  it("SayHello answers with the greeting", async () => {
    const { greeting } = await connection.client(GreeterService).sayHello({ name: "sdk" });
    assert.equal(greeting, "Hello, sdk!");
  });
});
