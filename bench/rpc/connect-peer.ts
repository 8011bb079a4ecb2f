/**
 * connect-node as it comes: connectNodeAdapter on a node:http2 server with
 * its defaults, and createGrpcTransport (gRPC protocol) dialing the unix
 * socket. No interceptors, no settings changed.
 */
import * as http2 from "node:http2";
import { connect } from "node:net";
import { createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import { EchoService, echoImplementation } from "./echo-service.js";
import type { EchoClient } from "./peers.js";

/** Serves the echo service with connect-node on socketPath; resolves once listening. */
export async function serveConnect(socketPath: string): Promise<void> {
  const server = http2.createServer(connectNodeAdapter({ routes: (router) => router.service(EchoService, echoImplementation) }));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });
  process.once("SIGTERM", () => server.close(() => process.exit(0)));
}

/** A connect-node gRPC client of the echo service on socketPath. */
export function dialConnect(socketPath: string): EchoClient {
  const transport = createGrpcTransport({
    baseUrl: "http://localhost",
    nodeOptions: { createConnection: () => connect(socketPath) },
  });
  const client = createClient(EchoService, transport);
  return {
    async echo(payload) {
      return (await client.echo({ payload })).payload;
    },
    async stream(count, size) {
      let messages = 0;
      for await (const _ of client.stream({ count, size })) messages++;
      return messages;
    },
    close() {},
  };
}
