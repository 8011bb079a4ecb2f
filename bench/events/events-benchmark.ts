/**
 * The events benchmarks (issue 6, issue 15): Publish throughput and latency,
 * and delivery throughput to 1, 10 and 100 live subscribers, of the events
 * component (built, packages/events/bin/moby-events.js) on each backend (its
 * log in a fresh SQLite file; in a stream of one nats-server with JetStream),
 * each against the SDK's echo server in the same run: Echo at the same
 * concurrency for Publish, N concurrent server streams of messages of the
 * delivered event's size for delivery; and the NATS backend against a direct
 * JetStream client doing the same on the same server (publish with a message
 * id and wait for the ack; one ordered consumer per subscriber) and a relay
 * (bench/relay), a component that only passes the direct client's publishes
 * and consumers on: the least any component in front of JetStream costs,
 * the ceiling of the NATS backend's ratio. Servers and
 * client runners are child processes, started once; peers alternate round by
 * round.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { connect as tcpConnect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BenchChild, stopAll } from "../support/child-process.js";
import { JsonLineChild } from "../support/json-lines.js";
import { runPairedRounds } from "../support/paired-benchmark.js";
import type { Measurement, PairedCase, PairedSettings } from "../support/paired-benchmark.js";
import type { BenchmarkResult } from "../support/results.js";
import { DELIVERED_EVENT_BYTES, ECHO_PAYLOAD_BYTES } from "./events-load.js";
import type { EventsLoadRequest } from "./events-load.js";

/** The peers: the component, and the baseline. */
const PEERS = ["events", "events-nats", "relay", "jetstream", "sdk-echo"] as const;
type Peer = (typeof PEERS)[number];
const BASELINE: Peer = "sdk-echo";
/** The NATS backend is also compared with the direct JetStream client, and every peer with the relay. */
const ALSO_AGAINST: readonly Peer[] = ["jetstream", "relay"];

/** The nats-server binary (Debian's package puts it here). */
const NATS_SERVER = process.env.MOBY_NATS_SERVER ?? "/usr/sbin/nats-server";

const PEER_DESCRIPTIONS: Record<Peer, string> = {
  events: "the events component (packages/events/bin/moby-events.js, built), default config, its log in a fresh SQLite file (WAL, synchronous=FULL)",
  "events-nats": "the same component with backend nats: its log a fresh file-stored stream (replicas 1) of one nats-server -js on 127.0.0.1",
  relay: "bench/relay/relay-main.ts jetstream: an SDK component (serveComponent) whose handlers make the direct client's publishes (bytes and message id from the request) and ordered consumers on a stream of its own, through its gRPC API on a unix socket (SDK client)",
  jetstream: "a direct @nats-io/jetstream client on the same nats-server: js.publish of the same Envelope bytes with a Nats-Msg-Id, awaiting the ack; one ordered consumer per subscriber",
  "sdk-echo": "bench.v1.EchoService served by serveComponent (bench/rpc/server-main.ts sdk), called with dialSocket().client()",
};

/** A port nothing listens on now, on 127.0.0.1. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once 127.0.0.1:port accepts a connection; rejects after timeoutMs or when child exits. */
async function waitForPort(child: BenchChild, port: number, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const dead = child.deadReason();
    if (dead !== undefined) throw new Error(dead);
    const open = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms:\n${child.output}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** One events case. */
export interface EventsCase extends PairedCase {
  kind: "unary" | "deliver";
  /** Publish (or Echo) calls in flight. */
  inFlight: number;
  /** Live subscribers (deliver). */
  subscribers: number;
  /** Events published per batch (deliver). */
  events: number;
}

const LATENCY_NOTE = "p50/p99 vs sdk-echo: median of the per-round ratios of the latency; above 1 is slower than the echo.";

function publishCase(inFlight: number): EventsCase {
  return {
    name: `events-publish-${inFlight}`,
    title: `Publish (SQLite: fsync per group commit; NATS: JetStream ack), ${inFlight} in flight, vs SDK Echo (${ECHO_PAYLOAD_BYTES} B) and the direct JetStream client at ${inFlight} in flight`,
    unit: "calls/s",
    kind: "unary",
    inFlight,
    subscribers: 0,
    events: 0,
    latencyRatios: inFlight === 1,
    settings: { kind: "publish", inFlight, echoPayloadBytes: ECHO_PAYLOAD_BYTES, event: "/containers/create ContainerCreate, a publish_id each, no subscriber" },
    notes: [
      "events: Publish calls/s (each acknowledged after its group commit is synced); events-nats: Publish calls/s (each answered after JetStream's ack);",
      "  jetstream: js.publish calls/s of the same bytes with a message id; relay: the same publishes passed on by a component that does nothing else; sdk-echo: Echo calls/s.",
      ...(inFlight === 1 ? [LATENCY_NOTE] : []),
    ],
  };
}

function deliverCase(subscribers: number, events: number): EventsCase {
  return {
    name: `events-deliver-${subscribers}`,
    title: `delivery to ${subscribers} live subscriber${subscribers === 1 ? "" : "s"}, ${events.toLocaleString("en-US")} events published per batch at 64 in flight, vs ${subscribers} SDK echo stream${subscribers === 1 ? "" : "s"} of ${events.toLocaleString("en-US")} messages`,
    unit: "messages/s",
    kind: "deliver",
    inFlight: 64,
    subscribers,
    events,
    latencyRatios: false,
    settings: {
      kind: "deliver",
      subscribers,
      eventsPerBatch: events,
      publishInFlight: 64,
      messageBytes: DELIVERED_EVENT_BYTES,
      connections: "one per subscriber (per echo stream), plus one for Publish",
    },
    notes: [
      `events: events received/s summed over the subscribers, from a batch's first Publish to the last subscriber holding its last event; subscribers`,
      `  START_POSITION_NOW, no filter, one connection each, in one client process with the publisher; publish/s: publishes over the time to the last ack.`,
      `events-nats: the same on the NATS backend; jetstream: ${subscribers} ordered consumer${subscribers === 1 ? "" : "s"} on one connection while the same batches are published directly.`,
      `relay: the jetstream peer's publishes and ${subscribers} ordered consumer${subscribers === 1 ? "" : "s"}, each passed on by the relay component to a subscriber stream of its own.`,
      `sdk-echo: ${subscribers} concurrent Stream call${subscribers === 1 ? "" : "s"} of ${events.toLocaleString("en-US")} messages of ${DELIVERED_EVENT_BYTES} B (a delivered event's size), each on its own connection; messages/s summed.`,
    ],
  };
}

/** The cases, in the order they are run and printed. */
export const EVENTS_CASES: readonly EventsCase[] = [publishCase(1), publishCase(64), deliverCase(1, 200), deliverCase(10, 200), deliverCase(100, 50)];

/** The request a case makes of a client runner. */
function loadRequest(c: EventsCase, timing: { warmupMs: number; durationMs: number }, serverPid: number): EventsLoadRequest {
  if (c.kind === "unary") return { kind: "unary", inFlight: c.inFlight, ...timing, serverPid };
  return { kind: "deliver", subscribers: c.subscribers, events: c.events, inFlight: c.inFlight, ...timing, serverPid };
}

/** Runs the given events cases; log receives one progress line per case and round. */
export async function runEventsBenchmarks(cases: readonly EventsCase[], settings: PairedSettings, log: (line: string) => void): Promise<BenchmarkResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "moby-bench-events-"));
  const servers = new Map<Peer, BenchChild>();
  const clients = new Map<Peer, JsonLineChild>();
  const natsPort = await freePort();
  const natsAddress = `127.0.0.1:${natsPort}`;
  // The socket each client runner dials; the direct JetStream client dials the server.
  const sockets: Record<Peer, string> = {
    events: join(dir, "events.sock"),
    "events-nats": join(dir, "events-nats.sock"),
    relay: join(dir, "relay.sock"),
    jetstream: natsAddress,
    "sdk-echo": join(dir, "echo.sock"),
  };
  // No registry, nothing outside the scratch directory.
  const isolated = { MOBY_RUN_DIR: dir, MOBY_REGISTRY_ENDPOINT: "" };
  let nats: BenchChild | undefined;
  try {
    await mkdir(join(dir, "nats"));
    nats = BenchChild.command("nats-server", NATS_SERVER, { args: ["-js", "-a", "127.0.0.1", "-p", String(natsPort), "-sd", join(dir, "nats")] });
    await waitForPort(nats, natsPort);
    servers.set(
      "events",
      BenchChild.node("events", "packages/events/bin/moby-events.js", {
        env: {
          ...isolated,
          MOBY_SOCKET: sockets.events,
          MOBY_COMPONENT_NAME: "events",
          MOBY_COMPONENT_CONFIG: JSON.stringify({ database: join(dir, "events.db") }),
        },
      }),
    );
    servers.set(
      "events-nats",
      BenchChild.node("events-nats", "packages/events/bin/moby-events.js", {
        env: {
          ...isolated,
          MOBY_SOCKET: sockets["events-nats"],
          MOBY_COMPONENT_NAME: "events",
          MOBY_COMPONENT_CONFIG: JSON.stringify({ backend: "nats", nats: { servers: [natsAddress], stream: "BENCH_EVENTS", replicas: 1 } }),
        },
      }),
    );
    servers.set("relay", BenchChild.node("relay", "bench/relay/relay-main.ts", { tsx: true, args: ["jetstream", sockets.relay, natsAddress], env: isolated }));
    // The direct client's runner measures against the nats-server process.
    servers.set("jetstream", nats);
    servers.set("sdk-echo", BenchChild.node("sdk-echo server", "bench/rpc/server-main.ts", { tsx: true, args: ["sdk", sockets["sdk-echo"]], env: isolated }));
    await Promise.all(PEERS.filter((peer) => peer !== "jetstream").map((peer) => servers.get(peer)!.waitForSocket(sockets[peer])));
    for (const peer of PEERS) {
      clients.set(peer, new JsonLineChild(`${peer} client`, "bench/events/client-main.ts", { tsx: true, args: [peer, sockets[peer]], env: isolated }));
    }
    return await runPairedRounds({
      peers: PEERS,
      baseline: BASELINE,
      alsoAgainst: ALSO_AGAINST,
      cases,
      settings,
      log,
      measure: (peer, c, timing) => clients.get(peer as Peer)!.request<Measurement>(loadRequest(c, timing, servers.get(peer as Peer)!.pid)),
      commonSettings: {
        transport: "unix socket, gRPC over HTTP/2 (SDK on both sides), server and client in separate processes",
        peers: PEER_DESCRIPTIONS,
      },
    });
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
    await stopAll([...servers.values()].filter((child) => child !== nats));
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
