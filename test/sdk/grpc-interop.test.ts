// gRPC's official interop cases (grpc/grpc doc/interop-test-descriptions.md),
// both ways, with the official peers as Debian ships them:
// - the SDK as server (test/fixtures/interop-server.ts on a unix socket,
//   reached over TCP through socat) driven by grpc-go 1.33's interop client
//   (built from Debian's source package, see test/support/grpc-interop-peers.ts)
//   and by gRPC C-core 1.51's, through ruby-grpc's interop client;
// - the SDK as client (test/support/interop-client.ts) against grpc-go's and
//   C-core's interop servers, and against the SDK's own.
// Neither Debian peer has the four compression cases on both sides:
// grpc-go 1.33 has none, and C-core's Ruby client has the two client ones
// while its server checks and compresses nothing. So the compression cases
// run where a peer implements them: the C-core client against the SDK
// server, and the SDK client against the SDK server, which checks
// expect_compressed and compresses as asked, message by message. Against
// C-core's server the SDK client also sends gzip-compressed requests, which
// it must read (grpc-go 1.33's interop server has no gzip decompressor).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ComponentProcess, scratchDirectory } from "../support/component-process.js";
import { PeerProcess, goInteropPeers, rubyInteropPeers, runPeer, tcpToUnix, unixToTcp, waitForPort, waitForSocketFile } from "../support/grpc-interop-peers.js";
import { freePort } from "../support/free-port.js";
import type { GoInteropPeers, RubyInteropPeers } from "../support/grpc-interop-peers.js";
import { ENV_INTEROP_IMAGE, buildGrpcTestingImage, loadGrpcTesting } from "../support/grpc-testing.js";
import type { GrpcTesting } from "../support/grpc-testing.js";
import { COMPRESSED_REQUEST_CASES, INTEROP_CASES } from "../support/interop-client.js";
import type { InteropCase } from "../support/interop-client.js";

/** The cases every peer here has: no credentials, no compression. */
const COMMON_CASES = [
  "empty_unary",
  "large_unary",
  "client_streaming",
  "server_streaming",
  "ping_pong",
  "empty_stream",
  "timeout_on_sleeping_server",
  "cancel_after_begin",
  "cancel_after_first_response",
  "custom_metadata",
  "status_code_and_message",
  "unimplemented_method",
  "unimplemented_service",
];
/** The four compression cases. */
const COMPRESSION_CASES = ["client_compressed_unary", "server_compressed_unary", "client_compressed_streaming", "server_compressed_streaming"];

/** grpc-go 1.33's interop client: the common cases and special_status_message; no compression case. */
const GO_CLIENT_CASES = [...COMMON_CASES, "special_status_message"];
/** C-core's Ruby interop client: the common cases and the two client compression cases; not special_status_message. */
const RUBY_CLIENT_CASES = [...COMMON_CASES, "client_compressed_unary", "client_compressed_streaming"];
/** The cases the SDK client runs against a server that does not implement compression (grpc-go's and C-core's). */
const THIRD_PARTY_SERVER_CASES = [...COMMON_CASES, "special_status_message"];
/** Every case, for the SDK client against the SDK server. */
const ALL_CASES = [...THIRD_PARTY_SERVER_CASES, ...COMPRESSION_CASES];

const scratch = scratchDirectory("moby-interop-");
const imagePath = join(scratch.dir, "grpc-testing.binpb");
let testing: GrpcTesting;
let go: GoInteropPeers;
let ruby: RubyInteropPeers;

before(() => {
  buildGrpcTestingImage(imagePath);
  testing = loadGrpcTesting(imagePath);
  go = goInteropPeers();
  if (go.buildMs !== undefined) console.log(`# built grpc-go ${go.version}'s interop client and server in ${go.buildMs} ms`);
  ruby = rubyInteropPeers();
});

after(() => scratch.remove());

/** Starts the SDK interop server on socketPath. */
async function startSdkServer(socketPath: string): Promise<ComponentProcess> {
  const server = new ComponentProcess("test/fixtures/interop-server.ts", { MOBY_SOCKET: socketPath, [ENV_INTEROP_IMAGE]: imagePath });
  await server.waitForSocket(socketPath);
  return server;
}

/** Asserts that a peer process ran one case to success. */
function assertPassed(outcome: { code: number | null; signal: NodeJS.Signals | null; output: string }, name: string): void {
  assert.equal(outcome.code, 0, `${name} exited ${outcome.code ?? outcome.signal}:\n${outcome.output}`);
}

describe("SDK interop server <- official interop clients, over TCP through socat", () => {
  const socketPath = join(scratch.dir, "sdk-server.sock");
  let server: ComponentProcess | undefined;
  let bridge: PeerProcess | undefined;
  let port = 0;

  before(async () => {
    server = await startSdkServer(socketPath);
    port = await freePort();
    bridge = tcpToUnix(port, socketPath);
    await waitForPort(port, bridge);
  });

  after(async () => {
    await bridge?.stop();
    await server?.stop();
  });

  describe("grpc-go 1.33 interop client", () => {
    for (const name of GO_CLIENT_CASES) {
      it(name, async () => {
        assertPassed(await runPeer(go.client, ["--server_host=127.0.0.1", `--server_port=${port}`, `--test_case=${name}`]), name);
      });
    }
  });

  describe("gRPC C-core 1.51 interop client (ruby-grpc)", () => {
    for (const name of RUBY_CLIENT_CASES) {
      it(name, async () => {
        assertPassed(await runPeer("ruby", [ruby.client, "--server_host=127.0.0.1", `--server_port=${port}`, `--test_case=${name}`]), name);
      });
    }
  });
});

/** Runs the SDK interop client's cases (INTEROP_CASES by name, and extra ones) against whatever serves on socketPath. */
function sdkClientCases(names: string[], socketPath: () => string, extra: Record<string, InteropCase> = {}): void {
  let connection: Connection | undefined;
  before(() => {
    // No retries: a case must see the server's first answer.
    connection = dialSocket(socketPath(), { retry: false });
  });
  after(() => connection?.close());
  for (const name of names) {
    const run = INTEROP_CASES[name];
    assert.ok(run !== undefined, `no interop case ${name}`);
    it(name, () => run({ connection: connection!, testing }));
  }
  for (const [name, run] of Object.entries(extra)) it(name, () => run({ connection: connection!, testing }));
}

/** A third-party interop server on a TCP port, reached by the SDK client through socat. */
function thirdPartyServer(title: string, start: (port: number) => PeerProcess, names: string[], extra: Record<string, InteropCase> = {}): void {
  describe(title, () => {
    const socketPath = join(scratch.dir, `${title.replace(/\W+/g, "-")}.sock`);
    let server: PeerProcess | undefined;
    let bridge: PeerProcess | undefined;

    before(async () => {
      const port = await freePort();
      server = start(port);
      await waitForPort(port, server);
      bridge = unixToTcp(socketPath, port);
      await waitForSocketFile(socketPath, bridge);
    });

    after(async () => {
      await bridge?.stop();
      await server?.stop();
    });

    sdkClientCases(names, () => socketPath, extra);
  });
}

describe("SDK interop client -> official interop servers, over TCP through socat", () => {
  thirdPartyServer("grpc-go 1.33 interop server", (port) => new PeerProcess(go.server, [`--port=${port}`]), THIRD_PARTY_SERVER_CASES);
  // grpc-go 1.33's interop server registers no gzip decompressor (it answers a gzip request UNIMPLEMENTED); C-core's reads gzip.
  thirdPartyServer("gRPC C-core 1.51 interop server (ruby-grpc)", (port) => new PeerProcess("ruby", [ruby.server, `--port=${port}`]), THIRD_PARTY_SERVER_CASES, COMPRESSED_REQUEST_CASES);
});

describe("SDK interop client -> SDK interop server, every case including compression", () => {
  const socketPath = join(scratch.dir, "sdk-both.sock");
  let server: ComponentProcess | undefined;

  before(async () => {
    server = await startSdkServer(socketPath);
  });

  after(async () => {
    await server?.stop();
  });

  sdkClientCases(ALL_CASES, () => socketPath);
});
