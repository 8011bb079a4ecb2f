import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { DashboardService } from "@moby-core/dashboard-api/v1";
import { accessPolicy } from "./access-policy.js";
import { AssemblyClients } from "./assembly-clients.js";
import { dashboardService } from "./dashboard-service.js";
import { MetricSampler } from "./metric-sampler.js";
import { startWebServer } from "./web-server.js";
import type { WebServer } from "./web-server.js";

const TOKEN = "a-token-of-the-test-0123456789";

/** A free loopback port, found by listening on port 0. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The code of the ConnectError call rejects with. */
async function codeOf(call: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await call;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

describe("the dashboard's web server", () => {
  const dir = mkdtempSync(join(tmpdir(), "moby-dashboard-web-"));
  // No init listens on this socket: a call that passes the checks reaches the assembly and finds it UNAVAILABLE.
  const clients = new AssemblyClients(join(dir, "no-init.sock"));
  const sampler = new MetricSampler(() => Promise.resolve("up 1\n"), 1000, 10);
  let server: WebServer;
  let base = "";

  before(async () => {
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>moby dashboard</title>");
    const port = await freePort();
    server = await startWebServer("127.0.0.1", port, {
      routes: (router) => router.service(DashboardService, dashboardService(clients, sampler)),
      assetsDir: dir,
      policy: accessPolicy("127.0.0.1", port, TOKEN).policy,
    });
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the page with its security headers, and 404 outside its directory", async () => {
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.match(await page.text(), /moby dashboard/);
    assert.equal((await fetch(`${base}/../../etc/passwd`)).status, 404);
    assert.equal((await fetch(`${base}/%2e%2e/%2e%2e/etc/passwd.html`)).status, 404);
  });
});

describe("the dashboard's web server: checks", () => {
  const dir = mkdtempSync(join(tmpdir(), "moby-dashboard-web-"));
  const clients = new AssemblyClients(join(dir, "no-init.sock"));
  const sampler = new MetricSampler(() => Promise.resolve("up 1\n"), 1000, 10);
  let server: WebServer;
  let base = "";
  const connect = (token?: string) =>
    createClient(
      DashboardService,
      createConnectTransport({
        baseUrl: base,
        httpVersion: "1.1",
        interceptors: [(next) => (req) => { if (token !== undefined) req.header.set("authorization", `Bearer ${token}`); return next(req); }],
      }),
    );

  before(async () => {
    writeFileSync(join(dir, "index.html"), "<!doctype html>");
    const port = await freePort();
    server = await startWebServer("127.0.0.1", port, {
      routes: (router) => router.service(DashboardService, dashboardService(clients, sampler)),
      assetsDir: dir,
      policy: accessPolicy("127.0.0.1", port, TOKEN).policy,
    });
    base = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses the mutating calls without the token (UNAUTHENTICATED), and lets them through with it", async () => {
    assert.equal(await codeOf(connect().restartComponent({ name: "events" })), Code.Unauthenticated);
    assert.equal(await codeOf(connect("wrong").killContainer({ id: "c" })), Code.Unauthenticated);
    assert.equal(await codeOf(connect().stopContainer({ id: "c" })), Code.Unauthenticated);
    // With the token the call goes on: to the (absent) assembly.
    assert.equal(await codeOf(connect(TOKEN).restartComponent({ name: "events" })), Code.Unavailable);
    // Reading needs no token.
    assert.equal(await codeOf(connect().listComponents({})), Code.Unavailable);
  });

  it("checks requests before calling the assembly, naming the field", async () => {
    const error = await connect(TOKEN).stopContainer({ id: "" }).catch((e: unknown) => ConnectError.from(e));
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.InvalidArgument);
    assert.equal(error.rawMessage, "id: is required");
    assert.equal(await codeOf(connect(TOKEN).killContainer({ id: "c", signal: 65 })), Code.InvalidArgument);
    assert.equal(await codeOf(connect().getSamples({ limit: 11 })), Code.InvalidArgument);
  });

  it("serves gRPC over HTTP/2 with prior knowledge on the same port", async () => {
    const grpc = createClient(DashboardService, createGrpcTransport({ baseUrl: base }));
    const samples = await grpc.getSamples({});
    assert.equal(samples.intervalMs, 1000);
  });

  it("answers 403 to a foreign Origin", async () => {
    const response = await fetch(`${base}/moby.dashboard.v1.DashboardService/GetSamples`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "http://evil.example" },
      body: "{}",
    });
    assert.equal(response.status, 403);
    assert.match(await response.text(), /forbidden: Origin "http:\/\/evil\.example" is not this dashboard's/);
  });
});
