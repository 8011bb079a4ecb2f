/**
 * grpc-js as it comes: @grpc/grpc-js server and client, with the codecs
 * @grpc/proto-loader makes from bench/proto (protobuf.js underneath), the
 * way grpc-js is commonly used. The client calls through grpc.Client's
 * makeUnaryRequest / makeServerStreamRequest, which is what generated and
 * dynamic grpc-js stubs call.
 */
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { REPO_ROOT } from "../support/child-process.js";
import type { EchoClient } from "./peers.js";

/** The messages as proto-loader decodes them (bytes as Buffer). */
interface Payload {
  payload: Buffer;
}
interface StreamAsk {
  count: number;
  size: number;
}

/** The echo service's grpc-js definition, loaded from bench/proto. */
function loadEchoService(): grpc.ServiceDefinition {
  const definition = protoLoader.loadSync("bench/v1/echo.proto", { includeDirs: [join(REPO_ROOT, "bench", "proto")] });
  return definition["bench.v1.EchoService"] as grpc.ServiceDefinition;
}

/** The address grpc-js uses for a unix socket. */
function address(socketPath: string): string {
  return `unix:${socketPath}`;
}

/** Serves the echo service with grpc-js on socketPath; resolves once bound. */
export async function serveGrpcJs(socketPath: string): Promise<void> {
  const server = new grpc.Server();
  server.addService(loadEchoService(), {
    Echo(call: grpc.ServerUnaryCall<Payload, Payload>, callback: grpc.sendUnaryData<Payload>) {
      callback(null, { payload: call.request.payload });
    },
    Stream(call: grpc.ServerWritableStream<StreamAsk, Payload>) {
      const message = { payload: Buffer.alloc(call.request.size) };
      let sent = 0;
      const next = () => {
        while (sent < call.request.count) {
          sent++;
          if (!call.write(message)) {
            call.once("drain", next);
            return;
          }
        }
        call.end();
      };
      next();
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(address(socketPath), grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())),
  );
  process.once("SIGTERM", () => server.tryShutdown(() => process.exit(0)));
}

/**
 * A grpc-js client of the echo service on socketPath: one grpc.Client as it
 * comes, or clients taking turns, each with its own connection (grpc-js
 * otherwise shares one between clients of the same address).
 */
export function dialGrpcJs(socketPath: string, connections = 1): EchoClient {
  const service = loadEchoService();
  const echo = service["Echo"]!;
  const stream = service["Stream"]!;
  const options = connections === 1 ? {} : { "grpc.use_local_subchannel_pool": 1 };
  const clients = Array.from({ length: connections }, () => new grpc.Client(address(socketPath), grpc.credentials.createInsecure(), options));
  let turn = 0;
  const next = () => clients[turn++ % clients.length]!;
  return {
    echo(payload) {
      return new Promise((resolve, reject) => {
        next().makeUnaryRequest<Payload, Payload>(
          echo.path,
          echo.requestSerialize,
          echo.responseDeserialize,
          { payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength) },
          (error, response) => (error || response === undefined ? reject(error ?? new Error("no response")) : resolve(response.payload)),
        );
      });
    },
    stream(count, size) {
      return new Promise((resolve, reject) => {
        let messages = 0;
        const call = next().makeServerStreamRequest<StreamAsk, Payload>(stream.path, stream.requestSerialize, stream.responseDeserialize, { count, size });
        call.on("data", () => messages++);
        call.on("error", reject);
        call.on("end", () => resolve(messages));
      });
    },
    close() {
      for (const client of clients) client.close();
    },
  };
}
