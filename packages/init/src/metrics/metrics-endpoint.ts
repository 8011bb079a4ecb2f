/**
 * init's Prometheus endpoint: GET /metrics on a TCP address the operator
 * chooses (--metrics-address, as dockerd's metrics-addr), answered with the
 * assembly's metrics gathered at that moment. Off unless set; an address
 * given as a port alone listens on loopback.
 */
import * as http from "node:http";
import { isIP } from "node:net";
import { PROMETHEUS_TEXT_CONTENT_TYPE } from "@moby-core/sdk";
import type { Logger } from "pino";

/** The path the endpoint serves the metrics on, as Prometheus scrapes by default. */
export const METRICS_PATH = "/metrics";

/** A TCP address to listen on. */
export interface ListenAddress {
  /** The IP address: 127.0.0.1 when only a port was given. */
  host: string;
  /** The TCP port, 0 to 65535 (0: one the system picks). */
  port: number;
}

/**
 * Parses --metrics-address: "HOST:PORT", "[IPv6]:PORT" or "PORT" (loopback),
 * HOST an IP address. Throws a one-line error naming what is wrong.
 */
export function parseListenAddress(value: string): ListenAddress {
  const bad = (why: string) => new Error(`--metrics-address ${JSON.stringify(value)}: ${why}; expected HOST:PORT such as 127.0.0.1:9323, or a port alone for loopback`);
  let host = "127.0.0.1";
  let portText = value;
  const bracketed = /^\[([^\]]+)\]:(.*)$/.exec(value);
  if (bracketed !== null) {
    host = bracketed[1]!;
    portText = bracketed[2]!;
  } else if (value.includes(":")) {
    const at = value.lastIndexOf(":");
    host = value.slice(0, at);
    portText = value.slice(at + 1);
    if (host.includes(":")) throw bad("an IPv6 address goes in brackets");
  }
  if (isIP(host) === 0) throw bad(`${JSON.stringify(host)} is not an IP address`);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw bad(`${JSON.stringify(portText)} is not a port (0 to 65535)`);
  return { host, port: Number(portText) };
}

/** Tells whether host is a loopback address. */
export function isLoopback(host: string): boolean {
  return host === "::1" || /^127\./.test(host) || host === "::ffff:127.0.0.1";
}

/** The endpoint serving; close() stops it. */
export interface MetricsEndpoint {
  /** The address it listens on (with the port the system picked for 0). */
  readonly address: ListenAddress;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

/** Serves GET /metrics on address with what gather returns. */
export async function serveMetricsEndpoint(address: ListenAddress, gather: () => Promise<string>, logger: Logger): Promise<MetricsEndpoint> {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (path !== METRICS_PATH) {
      response.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end(`not found: the metrics are at ${METRICS_PATH}\n`);
      return;
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" }).end("only GET and HEAD\n");
      return;
    }
    gather().then(
      (text) => {
        response.writeHead(200, { "content-type": PROMETHEUS_TEXT_CONTENT_TYPE, "content-length": Buffer.byteLength(text) });
        response.end(request.method === "HEAD" ? undefined : text);
      },
      (error: unknown) => {
        logger.error({ err: error }, "gathering the metrics failed");
        response.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end(`gathering the metrics failed: ${(error as Error).message}\n`);
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (error) => logger.error({ err: error }, "the metrics endpoint failed"));
  const bound = server.address();
  const port = typeof bound === "object" && bound !== null ? bound.port : address.port;
  return {
    address: { host: address.host, port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
