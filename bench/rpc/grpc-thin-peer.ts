/**
 * The thinnest gRPC there can be on node:http2: the http2 peer plus only
 * what the gRPC protocol itself adds (protobuf-es encoding, the 5-byte
 * message prefix, content-type application/grpc, te: trailers, the status
 * in trailers), with no routing, deadlines, metadata, limits, error mapping
 * or API around it. It shows what gRPC costs over raw HTTP/2 on this Node,
 * the ceiling any gRPC stack on node:http2 can reach.
 */
import * as http2 from "node:http2";
import { connect } from "node:net";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { EchoRequestSchema, EchoResponseSchema, StreamRequestSchema, StreamResponseSchema } from "../gen/bench/v1/echo_pb.js";
import { collect, pump } from "./http2-streams.js";
import type { EchoClient } from "./peers.js";

const ECHO_PATH = "/bench.v1.EchoService/Echo";
const STREAM_PATH = "/bench.v1.EchoService/Stream";
const OK = { "grpc-status": "0" };

/** A message of desc encoded and prefixed with the uncompressed flag and its length. */
function frame<D extends DescMessage>(desc: D, message: MessageShape<D>): Buffer {
  const bytes = toBinary(desc, message);
  const out = Buffer.allocUnsafe(5 + bytes.byteLength);
  out[0] = 0;
  out.writeUInt32BE(bytes.byteLength, 1);
  out.set(bytes, 5);
  return out;
}

/** The messages of desc in a body made of whole frames. */
function unframe<D extends DescMessage>(desc: D, body: Buffer): MessageShape<D>[] {
  const messages: MessageShape<D>[] = [];
  for (let at = 0; at + 5 <= body.length; ) {
    const length = body.readUInt32BE(at + 1);
    messages.push(fromBinary(desc, body.subarray(at + 5, at + 5 + length)));
    at += 5 + length;
  }
  return messages;
}

/** Answers with the response headers; the status goes in the trailers once the body is written. */
function respond(stream: http2.ServerHttp2Stream): void {
  stream.once("wantTrailers", () => stream.sendTrailers(OK));
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
}

/** Serves Echo and Stream on socketPath; resolves once listening. */
export async function serveGrpcThin(socketPath: string): Promise<void> {
  const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
  server.on("stream", (stream, headers) => {
    stream.on("error", () => {});
    const path = headers[":path"];
    collect(stream, (body) => {
      respond(stream);
      if (path === STREAM_PATH) {
        const ask = unframe(StreamRequestSchema, body)[0]!;
        pump(stream, frame(StreamResponseSchema, { $typeName: "bench.v1.StreamResponse", payload: new Uint8Array(ask.size) }), ask.count);
      } else {
        const request = unframe(EchoRequestSchema, body)[0]!;
        stream.end(frame(EchoResponseSchema, { $typeName: "bench.v1.EchoResponse", payload: request.payload }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });
  process.once("SIGTERM", () => server.close(() => process.exit(0)));
}

/** A thin gRPC client of serveGrpcThin (or any gRPC server of the echo service) on socketPath, over one session. */
export function dialGrpcThin(socketPath: string): EchoClient {
  const session = http2.connect("http://localhost", { createConnection: () => connect(socketPath) });
  session.on("error", () => {});
  /** Sends one framed request, and resolves with the response body once the call ended with status OK. */
  const call = (path: string, body: Buffer, onData?: (chunk: Buffer) => void) =>
    new Promise<Buffer>((resolve, reject) => {
      const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
      stream.end(body);
      stream.once("error", reject);
      let status: string | undefined;
      stream.once("trailers", (trailers: http2.IncomingHttpHeaders) => (status = trailers["grpc-status"] as string | undefined));
      const chunks: Buffer[] = [];
      stream.on("data", onData ?? ((chunk: Buffer) => chunks.push(chunk)));
      stream.on("end", () => {
        if (status !== "0") reject(new Error(`the call ended with grpc-status ${String(status)}`));
        else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      });
    });
  return {
    async echo(payload) {
      const body = await call(ECHO_PATH, frame(EchoRequestSchema, { $typeName: "bench.v1.EchoRequest", payload }));
      return unframe(EchoResponseSchema, body)[0]!.payload;
    },
    async stream(count, size) {
      // Count (and decode) the messages as they arrive, across chunk boundaries.
      let messages = 0;
      let pending: Buffer = Buffer.alloc(0);
      await call(STREAM_PATH, frame(StreamRequestSchema, { $typeName: "bench.v1.StreamRequest", count, size }), (chunk) => {
        let buffer: Buffer = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        while (buffer.length >= 5 && buffer.length >= 5 + buffer.readUInt32BE(1)) {
          const length = buffer.readUInt32BE(1);
          fromBinary(StreamResponseSchema, buffer.subarray(5, 5 + length));
          buffer = buffer.subarray(5 + length);
          messages++;
        }
        pending = buffer;
      });
      return messages;
    },
    close() {
      session.close();
    },
  };
}
