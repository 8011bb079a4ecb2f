import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import * as http2 from "node:http2";
import type { ClientHttp2Stream, Http2Session, ServerHttp2Stream } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import { ClientSession, DEFAULT_CONNECTIONS } from "./client-session.js";

/** A real HTTP/2 server on a unix socket that holds every stream until answer() is called. */
class HoldingServer {
  readonly sessions: Http2Session[] = [];
  readonly held: ServerHttp2Stream[] = [];
  private readonly server = http2.createServer();

  constructor(readonly socketPath: string) {
    this.server.on("session", (session) => this.sessions.push(session));
    this.server.on("stream", (stream) => {
      stream.resume();
      this.held.push(stream);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  /** Waits until count streams are held; fails after 5 s. */
  async holding(count: number): Promise<void> {
    const deadline = Date.now() + 5000;
    while (this.held.length < count) {
      if (Date.now() > deadline) assert.fail(`the server holds ${this.held.length} streams after 5 s, expected ${count}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Which accepted session each held stream came on, by index. */
  sessionOfEach(): number[] {
    return this.held.map((stream) => this.sessions.indexOf(stream.session!));
  }

  /** Answers every held stream with an empty 200. */
  answer(): void {
    for (const stream of this.held.splice(0)) stream.respond({ ":status": 200 }, { endStream: true });
  }

  close(): Promise<void> {
    for (const session of this.sessions) session.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** Starts a request on client; closed resolves with the response's status (undefined if none came) once the stream closed and was released. */
function call(client: ClientSession): { stream: ClientHttp2Stream; closed: Promise<number | undefined> } {
  const stream = client.request({ ":method": "POST", ":path": "/test.v1.Test/Call" });
  stream.end();
  stream.resume();
  stream.on("error", () => {});
  let status: number | undefined;
  stream.once("response", (headers) => (status = headers[":status"]));
  const closed = new Promise<number | undefined>((resolve) =>
    stream.once("close", () => {
      client.release(stream);
      resolve(status);
    }),
  );
  return { stream, closed };
}

const dir = mkdtempSync(join(tmpdir(), "moby-client-session-"));
let server: HoldingServer;
let client: ClientSession | undefined;
let sockets = 0;

after(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  client?.close();
  client = undefined;
  await server.close();
});

async function serve(): Promise<string> {
  const socketPath = join(dir, `s${++sockets}.sock`);
  server = new HoldingServer(socketPath);
  await server.listen();
  return socketPath;
}

describe("ClientSession", () => {
  it("keeps calls made one after another on one connection", async () => {
    client = new ClientSession(await serve());
    for (let i = 0; i < 3; i++) {
      const { closed } = call(client);
      await server.holding(1);
      server.answer();
      await closed;
    }
    assert.equal(server.sessions.length, 1);
  });

  it(`spreads concurrent calls over ${DEFAULT_CONNECTIONS} connections at most, each to the one carrying the fewest`, async () => {
    client = new ClientSession(await serve());
    const calls = [call(client), call(client), call(client), call(client), call(client)];
    await server.holding(5);
    assert.equal(server.sessions.length, 2);
    const perSession = [0, 0];
    for (const index of server.sessionOfEach()) perSession[index]!++;
    assert.deepEqual(perSession.sort(), [2, 3]);
    server.answer();
    await Promise.all(calls.map((c) => c.closed));
  });

  it("keeps every call on one connection when connections is 1", async () => {
    client = new ClientSession(await serve(), 1);
    const calls = [call(client), call(client), call(client)];
    await server.holding(3);
    assert.equal(server.sessions.length, 1);
    server.answer();
    await Promise.all(calls.map((c) => c.closed));
  });

  it("sends no new call to a connection that received GOAWAY, while its calls finish there", async () => {
    client = new ClientSession(await serve(), 1);
    const first = call(client);
    await server.holding(1);
    server.sessions[0]!.goaway();
    await new Promise((resolve) => first.stream.session!.once("goaway", resolve));
    const second = call(client);
    await server.holding(2);
    assert.deepEqual(server.sessionOfEach(), [0, 1]);
    server.answer();
    assert.deepEqual(await Promise.all([first.closed, second.closed]), [200, 200]);
  });

  it("refuses a number of connections that is not a whole number of 1 or more", async () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new ClientSession("/unused.sock", bad), (error: Error) => error instanceof RangeError && error.message.startsWith(`connections: ${String(bad)} `));
    }
    // Nothing to close: serve one so afterEach has a server.
    await serve();
  });
});
