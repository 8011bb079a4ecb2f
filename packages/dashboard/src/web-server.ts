/**
 * The dashboard's HTTP server on one TCP port: the page's static assets and
 * DashboardService over connect-node (the Connect protocol for the page;
 * gRPC and gRPC-Web too), over HTTP/1.1, which browsers use on plain HTTP,
 * and HTTP/2 with prior knowledge (h2c, for buf curl and gRPC clients): the
 * first bytes of a connection tell which. Every request passes the access
 * policy first (403 otherwise); the mutating RPCs also the token check.
 */
import { readFile } from "node:fs/promises";
import { createServer as createHttp1Server } from "node:http";
import { createServer as createHttp2Server } from "node:http2";
import { createServer as createNetServer } from "node:net";
import type { AddressInfo, Server, Socket } from "node:net";
import { extname, join, normalize, resolve, sep } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { authorized, refusal } from "./access-policy.js";
import type { AccessPolicy } from "./access-policy.js";
import { MUTATING_METHODS, PAYLOADS } from "./dashboard-service.js";

/** The first bytes of every HTTP/2 connection (RFC 9113 §3.4). */
const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** The content types of the built assets. */
const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Headers on every static answer: no framing by other sites, no sniffing, only our own scripts. */
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/** What the server serves. */
export interface WebServerOptions {
  /** Registers DashboardService on the router. */
  routes: (router: ConnectRouter) => void;
  /** The directory of the built page (index.html and its assets). */
  assetsDir: string;
  /** Who may use it. */
  policy: AccessPolicy;
}

/** A request and a response of connect-node's handler (HTTP/1.1 or HTTP/2). */
type NodeHandler = ReturnType<typeof connectNodeAdapter>;
type AnyRequest = Parameters<NodeHandler>[0];
type AnyResponse = Parameters<NodeHandler>[1];

/** Answers with a status and a short plain-text body. */
function answer(response: AnyResponse, status: number, text: string): void {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
  response.end(text);
}

/** The interceptor that refuses a mutating call without the token (UNAUTHENTICATED). */
export function tokenInterceptor(policy: AccessPolicy): Interceptor {
  return (next) => async (request) => {
    const path = `/${request.service.typeName}/${request.method.name}`;
    if (MUTATING_METHODS.has(path) && !authorized(policy, request.header.get("authorization") ?? undefined)) {
      throw new ConnectError(`${request.method.name} needs "Authorization: Bearer <token>": the dashboard's token (logged at its start, or config.token)`, Code.Unauthenticated);
    }
    return next(request);
  };
}

/** Serves a file of assetsDir for a GET, "/" being index.html; 404 for anything else. */
async function serveAsset(assetsDir: string, request: AnyRequest, response: AnyResponse): Promise<void> {
  const path = new URL(request.url ?? "/", "http://localhost").pathname;
  const file = normalize(join(assetsDir, path === "/" ? "index.html" : decodeURIComponent(path)));
  const type = CONTENT_TYPES[extname(file)];
  if ((request.method !== "GET" && request.method !== "HEAD") || !file.startsWith(assetsDir + sep) || type === undefined) {
    answer(response, 404, "not found\n");
    return;
  }
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    answer(response, 404, "not found\n");
    return;
  }
  response.writeHead(200, { ...SECURITY_HEADERS, "content-type": type, "content-length": body.length });
  if (request.method === "HEAD") response.end();
  else response.end(body);
}

/** The dashboard's running server. */
export interface WebServer {
  /** The address and port it listens on. */
  address: AddressInfo;
  /** Stops listening and ends every open connection. */
  close(): Promise<void>;
}

/** Starts the server on host:port (0: any free port). */
export async function startWebServer(host: string, port: number, options: WebServerOptions): Promise<WebServer> {
  const assetsDir = resolve(options.assetsDir);
  const connect = connectNodeAdapter({
    routes: options.routes,
    interceptors: [tokenInterceptor(options.policy)],
    jsonOptions: { registry: PAYLOADS }, // an event's Any payload in JSON needs its type
    fallback: (request, response) => void serveAsset(assetsDir, request, response),
  });
  const handle = (request: AnyRequest, response: AnyResponse): void => {
    const host = (request.headers.host ?? request.headers[":authority"]) as string | undefined;
    const origin = request.headers.origin;
    const reason = refusal(options.policy, host, typeof origin === "string" ? origin : undefined);
    if (reason !== undefined) {
      answer(response, 403, `forbidden: ${reason}\n`);
      return;
    }
    connect(request, response);
  };
  const http1 = createHttp1Server(handle);
  const http2 = createHttp2Server(handle);
  const sockets = new Set<Socket>();
  const server: Server = createNetServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.once("readable", () => {
      const head = (socket.read(HTTP2_PREFACE.length) as Buffer | null) ?? (socket.read() as Buffer | null);
      if (head === null) return void socket.destroy();
      socket.unshift(head);
      (head.equals(HTTP2_PREFACE.subarray(0, head.length)) ? http2 : http1).emit("connection", socket);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
