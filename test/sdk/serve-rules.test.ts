// The SDK's serving and dialing rules, each against the example component
// running as a real child process on a real unix socket: socket modes, stale
// and live sockets, message limits, deadlines, graceful shutdown, reconnect,
// error codes and call logs.
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { Code, ConnectError, ServingStatus, dialSocket, resolveComponent } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { Health } from "@moby-core/grpc-health-api/v1";
import { GreeterService } from "../../examples/hello-component/gen/hello/v1/hello_pb.js";
import { ComponentProcess, scratchDirectory, startHello } from "../support/component-process.js";
import { RawConnection, within } from "../support/fault-probe.js";
import { rejection } from "../support/rejection.js";

const scratch = scratchDirectory();
after(() => scratch.remove());

const running: ComponentProcess[] = [];
const connections: Connection[] = [];
afterEach(async () => {
  connections.splice(0).forEach((c) => c.close());
  await Promise.all(running.splice(0).map((p) => p.stop("SIGKILL")));
});

let sockets = 0;
/** A socket path in a directory that does not exist yet. */
function freshSocket(): string {
  sockets++;
  return join(scratch.dir, `d${sockets}`, "hello.sock");
}

async function hello(socketPath: string, overrides: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) {
  const child = Object.keys(env).length === 0 ? await startHello(socketPath, overrides) : await startWithEnv(socketPath, env);
  running.push(child);
  return child;
}

async function startWithEnv(socketPath: string, env: NodeJS.ProcessEnv) {
  const child = new ComponentProcess("test/fixtures/hello-server.ts", { MOBY_SOCKET: socketPath, ...env });
  await child.waitForSocket(socketPath);
  return child;
}

function dial(socketPath: string, options?: Parameters<typeof dialSocket>[1]) {
  const connection = dialSocket(socketPath, options);
  connections.push(connection);
  return connection;
}


describe("the socket", () => {
  it("is created with mode 0600 in a new directory of mode 0700, and removed on shutdown", async () => {
    const socketPath = freshSocket();
    const child = await hello(socketPath);
    assert.equal(statSync(socketPath).mode & 0o777, 0o600);
    assert.equal(statSync(join(socketPath, "..")).mode & 0o777, 0o700);
    assert.ok(statSync(socketPath).isSocket());
    const exit = await child.stop("SIGTERM");
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.equal(existsSync(socketPath), false);
  });

  it("takes other modes when configured", async () => {
    const socketPath = freshSocket();
    await hello(socketPath, { socketMode: 0o660, directoryMode: 0o750 });
    assert.equal(statSync(socketPath).mode & 0o777, 0o660);
    assert.equal(statSync(join(socketPath, "..")).mode & 0o777, 0o750);
  });

  it("replaces a stale socket left by a killed process", async () => {
    const socketPath = freshSocket();
    const first = await hello(socketPath);
    await first.stop("SIGKILL");
    assert.ok(statSync(socketPath).isSocket(), "kill -9 leaves the socket file behind");
    await hello(socketPath);
    const { greeting } = await dial(socketPath).client(GreeterService).sayHello({ name: "again" });
    assert.equal(greeting, "Hello, again!");
  });

  it("refuses to steal a live socket", async () => {
    const socketPath = freshSocket();
    await hello(socketPath);
    const second = new ComponentProcess("test/fixtures/hello-server.ts", { MOBY_SOCKET: socketPath });
    const exit = await second.exited;
    assert.notEqual(exit.code, 0);
    assert.match(second.output, /socket .*hello\.sock is in use/);
    const { greeting } = await dial(socketPath).client(GreeterService).sayHello({ name: "first" });
    assert.equal(greeting, "Hello, first!", "the first server still serves");
  });

  it("a component still draining leaves alone the socket of the one that replaced it", async () => {
    const socketPath = freshSocket();
    const first = await hello(socketPath);
    // A call in flight keeps the first draining for a while after SIGTERM; it stops accepting at once.
    const slow = dial(socketPath).client(GreeterService).sayHello({ name: "slow", delay: { seconds: 4n } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const firstStopped = first.stop("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 500));
    await hello(socketPath);
    assert.equal((await slow).greeting, "Hello, slow!", "the first finished its call");
    await firstStopped;
    const { greeting } = await dial(socketPath).client(GreeterService).sayHello({ name: "second" });
    assert.equal(greeting, "Hello, second!", "the second still serves on the path");
  });

  it("refuses to replace a file that is not a socket", async () => {
    const socketPath = join(scratch.dir, "not-a-socket");
    writeFileSync(socketPath, "keep me");
    const child = new ComponentProcess("test/fixtures/hello-server.ts", { MOBY_SOCKET: socketPath });
    const exit = await child.exited;
    assert.notEqual(exit.code, 0);
    assert.match(child.output, /exists and is not a socket/);
    assert.equal(readFileSync(socketPath, "utf8"), "keep me");
  });
});

describe("limits", () => {
  it("answers RESOURCE_EXHAUSTED for a request larger than the receive limit", async () => {
    const socketPath = freshSocket();
    await hello(socketPath, { maxReceiveMessageBytes: 64 });
    const client = dial(socketPath).client(GreeterService);
    const error = await rejection(client.sayHello({ name: "x".repeat(200) }));
    assert.equal(error.code, Code.ResourceExhausted);
    assert.equal((await client.sayHello({ name: "small" })).greeting, "Hello, small!");
  });

  it("answers RESOURCE_EXHAUSTED for a response larger than the send limit", async () => {
    const socketPath = freshSocket();
    await hello(socketPath, { maxSendMessageBytes: 40 });
    const client = dial(socketPath).client(GreeterService);
    const error = await rejection(client.sayHello({ name: "y".repeat(100) }));
    assert.equal(error.code, Code.ResourceExhausted);
  });

  it("honours the caller's deadline: the handler sees the abort and the caller gets DEADLINE_EXCEEDED", async () => {
    const socketPath = freshSocket();
    await hello(socketPath);
    const client = dial(socketPath).client(GreeterService);
    const started = Date.now();
    const error = await rejection(client.sayHello({ name: "slow", delay: { seconds: 10n } }, { timeoutMs: 200 }));
    assert.equal(error.code, Code.DeadlineExceeded);
    assert.ok(Date.now() - started < 5000, "the call ended at its deadline, not after the delay");
  });

  it("takes a per-call timeoutMs of 0 as no deadline, as connect does, over the connection's default", async () => {
    const socketPath = freshSocket();
    await hello(socketPath);
    const client = dial(socketPath, { timeoutMs: 150 }).client(GreeterService);
    const late = { name: "late", delay: { nanos: 500_000_000 } };
    assert.equal((await rejection(client.sayHello(late))).code, Code.DeadlineExceeded);
    assert.equal((await client.sayHello(late, { timeoutMs: 0 })).greeting, "Hello, late!");
    const names: string[] = [];
    for await (const reply of client.streamGreetings({ name: "s", count: 2 }, { timeoutMs: 0 })) names.push(reply.greeting);
    assert.equal(names.length, 2);
  });
});

describe("connections", () => {
  it("refuses one past maxConnections with GOAWAY ENHANCE_YOUR_CALM, which the client reports, logging once per burst", async () => {
    const socketPath = freshSocket();
    const child = await hello(socketPath, { connections: { maxConnections: 1 } });
    // The connection that holds the one place (the startup probe's may still be closing: try again until in).
    const holder = dial(socketPath, { retry: false, connections: 1 }).client(GreeterService);
    for (let attempt = 0; ; attempt++) {
      try {
        await holder.sayHello({ name: "in" });
        break;
      } catch (error) {
        if (attempt === 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    for (let i = 0; i < 3; i++) {
      const error = await rejection(dial(socketPath, { retry: false }).client(GreeterService).sayHello({ name: "out" }));
      assert.equal(error.code, Code.Unavailable);
      assert.match(error.rawMessage, /the server closed the connection: GOAWAY ENHANCE_YOUR_CALM "too many connections"/);
    }
    assert.equal((await holder.sayHello({ name: "still in" })).greeting, "Hello, still in!");
    assert.equal(child.output.split("refusing new connections").length - 1, 1, "one log line for the burst");
  });

  it("closes a connection without calls after idleTimeoutMs with GOAWAY NO_ERROR; the client opens a new one for its next call", async () => {
    const socketPath = freshSocket();
    await hello(socketPath, { connections: { idleTimeoutMs: 200 } });
    const client = dial(socketPath, { retry: false, connections: 1 }).client(GreeterService);
    assert.equal((await client.sayHello({ name: "a" })).greeting, "Hello, a!");
    const idle = new RawConnection(socketPath);
    await idle.handshake();
    await within(idle.closed, "the idle connection closed by the server");
    // node:http2 closes gracefully: a shutdown notice, then the final GOAWAY, both NO_ERROR.
    assert.deepEqual([...new Set(idle.goaways().map((g) => g.code))], [0]);
    assert.equal((await client.sayHello({ name: "b" })).greeting, "Hello, b!");
  });

  it("keeps a connection with an open call past idleTimeoutMs", async () => {
    const socketPath = freshSocket();
    await hello(socketPath, { connections: { idleTimeoutMs: 200 } });
    const connection = dial(socketPath, { retry: false, connections: 1 });
    const controller = new AbortController();
    const watch = connection.client(Health).watch({ service: "" }, { signal: controller.signal })[Symbol.asyncIterator]();
    const first = await watch.next();
    assert.ok(first.done !== true, "a first status");
    assert.equal(first.value.status, ServingStatus.SERVING);
    // Ten idle timeouts with the watch open (a connection wrongly taken for idle would be closed after
    // one, and destroyed 1 s later): the connection stays, the watch with it.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const pending = watch.next();
    pending.catch(() => {});
    // A watch on a closed connection has already failed: its next() settles within a turn.
    const state = await Promise.race([pending.then(() => "ended", () => "failed"), new Promise((resolve) => setImmediate(() => setImmediate(() => resolve("open"))))]);
    assert.equal(state, "open", "the watch is still open");
    assert.equal((await connection.client(GreeterService).sayHello({ name: "still" })).greeting, "Hello, still!");
    controller.abort();
  });

  it("destroys a connection that has not sent the preface and SETTINGS after handshakeTimeoutMs", async () => {
    const socketPath = freshSocket();
    await hello(socketPath, { connections: { handshakeTimeoutMs: 200 } });
    const silent = new RawConnection(socketPath);
    const half = new RawConnection(socketPath);
    await half.write(Buffer.from("PRI * HTTP/2.0\r\n"));
    await within(Promise.all([silent.closed, half.closed]), "both closed by the server");
  });

  it("stops at start on a connection setting that does not parse, naming it", async () => {
    const error = await rejection(startWithEnv(freshSocket(), { MOBY_IDLE_TIMEOUT: "5" }));
    assert.match(error.message, /\$MOBY_IDLE_TIMEOUT: "5" is not a duration/);
  });
});

describe("graceful shutdown", () => {
  it("ends an open stream with UNAVAILABLE and exits 0", async () => {
    const socketPath = freshSocket();
    const child = await hello(socketPath);
    const stream = dial(socketPath).client(GreeterService).streamGreetings({ name: "s", count: 0, interval: { nanos: 20_000_000 } });
    const received: number[] = [];
    const ended = (async () => {
      for await (const message of stream) {
        received.push(message.number);
        if (message.number === 2) void child.stop("SIGTERM");
      }
    })();
    const error = await rejection(ended);
    assert.equal(error.code, Code.Unavailable);
    assert.ok(received.length >= 2);
    assert.deepEqual(await child.exited, { code: 0, signal: null });
    assert.equal(existsSync(socketPath), false);
  });

  it("lets an in-flight unary call finish within the grace period", async () => {
    const socketPath = freshSocket();
    const child = await hello(socketPath);
    const client = dial(socketPath, { retry: false }).client(GreeterService);
    const slow = client.sayHello({ name: "finish", delay: { nanos: 600_000_000 } });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const stopped = child.stop("SIGTERM");
    assert.equal((await slow).greeting, "Hello, finish!");
    assert.deepEqual(await stopped, { code: 0, signal: null });
  });

  it("cancels unary calls still running after the grace period", async () => {
    const socketPath = freshSocket();
    const child = await hello(socketPath, { shutdownGraceMs: 200 });
    const client = dial(socketPath, { retry: false }).client(GreeterService);
    const slow = client.sayHello({ name: "late", delay: { seconds: 30n } });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const stopped = child.stop("SIGTERM");
    const error = await rejection(slow);
    assert.equal(error.code, Code.Unavailable);
    assert.deepEqual(await stopped, { code: 0, signal: null });
  });
});

describe("dialing", () => {
  it("reconnects after the component restarts: the next call works once it is back", async () => {
    const socketPath = freshSocket();
    const first = await hello(socketPath);
    const connection = dial(socketPath);
    const client = connection.client(GreeterService);
    assert.equal((await client.sayHello({ name: "one" })).greeting, "Hello, one!");
    await first.stop("SIGKILL");
    const restarted = new Promise<void>((resolve) =>
      setTimeout(() => void hello(socketPath).then(() => resolve()), 300),
    );
    // SayHello has no side effects, so the SDK retries it with backoff while the component is down.
    assert.equal((await client.sayHello({ name: "two" })).greeting, "Hello, two!");
    await restarted;
  });

  it("fails fast with UNAVAILABLE when nothing serves and retries are off", async () => {
    const error = await rejection(dial(freshSocket(), { retry: false }).client(GreeterService).sayHello({ name: "x" }));
    assert.equal(error.code, Code.Unavailable);
  });

  it("answers concurrent calls, and refuses a bad number of connections", async () => {
    const socketPath = freshSocket();
    await hello(socketPath);
    const client = dial(socketPath).client(GreeterService);
    const greetings = await Promise.all(["a", "b", "c", "d"].map((name) => client.sayHello({ name })));
    assert.deepEqual(greetings.map((g) => g.greeting), ["Hello, a!", "Hello, b!", "Hello, c!", "Hello, d!"]);
    assert.throws(() => dialSocket(socketPath, { connections: 0 }), /^RangeError: connections: 0 is not a whole number of 1 or more/);
  });

  it("waits for a component to become healthy", async () => {
    const socketPath = freshSocket();
    const connection = dial(socketPath);
    const healthy = connection.waitForHealthy("", 20_000);
    await hello(socketPath);
    await healthy;
  });

  it("waitForHealthy rejects with DEADLINE_EXCEEDED when the component never comes", async () => {
    const error = await rejection(dial(freshSocket()).waitForHealthy("", 300));
    assert.equal(error.code, Code.DeadlineExceeded);
  });

  it("resolves a component by name from the environment init passes", async () => {
    const socketPath = freshSocket();
    assert.equal(await resolveComponent("container-store", { env: { MOBY_ENDPOINT_CONTAINER_STORE: socketPath } }), socketPath);
    const runDir = join(scratch.dir, "no-init-here");
    await assert.rejects(
      resolveComponent("events", { env: { MOBY_RUN_DIR: runDir }, dial: { retry: false } }),
      (error: ConnectError) => {
        assert.equal(error.code, Code.Unavailable);
        assert.match(error.rawMessage, /^cannot resolve component "events" \(\$MOBY_ENDPOINT_EVENTS is not set\): no registry answers at .*no-init-here\/init\.sock \(is moby-init running\?/);
        return true;
      },
    );
  });
});

describe("errors and logs", () => {
  it("sends a domain error as its canonical code with the field named, never a stack", async () => {
    const socketPath = freshSocket();
    await hello(socketPath);
    const error = await rejection(dial(socketPath).client(GreeterService).sayHello({ name: "" }));
    assert.equal(error.code, Code.InvalidArgument);
    assert.equal(error.rawMessage, "name: required");
  });

  it("logs JSON lines with the component's name, and one debug line per call", async () => {
    const socketPath = freshSocket();
    const child = await hello(socketPath, {}, { MOBY_LOG_LEVEL: "debug" });
    const client = dial(socketPath).client(GreeterService);
    await client.sayHello({ name: "log" });
    await rejection(client.sayHello({ name: "" }));
    await child.stop("SIGTERM");
    const lines = child.output.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(lines.every((line) => line.component === "hello"), "every line names the component");
    const calls = lines.filter((line) => line.msg === "call" && line.method === "/hello.v1.GreeterService/SayHello");
    assert.deepEqual(calls.map((c) => c.code), ["OK", "InvalidArgument"]);
    assert.ok(calls.every((c) => typeof c.durationMs === "number"));
  });
});
