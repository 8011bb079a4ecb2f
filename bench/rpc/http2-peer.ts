/**
 * The floor: raw node:http2 with no gRPC. A request's body is a 4-byte
 * big-endian length and the payload; /echo answers with the same framing,
 * /stream (body: count and size, 4 bytes each) answers with count framed
 * messages of size bytes, honouring backpressure.
 */
import * as http2 from "node:http2";
import { connect } from "node:net";
import { collect, pump } from "./http2-streams.js";
import type { EchoClient } from "./peers.js";

/** Prefixes payload with its 4-byte big-endian length. */
function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.byteLength);
  out.writeUInt32BE(payload.byteLength, 0);
  out.set(payload, 4);
  return out;
}

/** The payload of one framed body. */
function unframe(body: Buffer): Buffer {
  return body.subarray(4, 4 + body.readUInt32BE(0));
}

/** Serves /echo and /stream on socketPath; resolves once listening. */
export async function serveHttp2(socketPath: string): Promise<void> {
  const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
  server.on("stream", (stream, headers) => {
    stream.on("error", () => {});
    collect(stream, (body) => {
      const payload = unframe(body);
      stream.respond({ ":status": 200, "content-type": "application/octet-stream" });
      if (headers[":path"] === "/stream") pump(stream, frame(new Uint8Array(payload.readUInt32BE(4))), payload.readUInt32BE(0));
      else stream.end(frame(payload));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, resolve);
  });
  process.once("SIGTERM", () => server.close(() => process.exit(0)));
}

/** A raw HTTP/2 client of serveHttp2 on socketPath, taking turns over the given number of sessions (one by default). */
export function dialHttp2(socketPath: string, sessionCount = 1): EchoClient {
  const sessions = Array.from({ length: sessionCount }, () => {
    const session = http2.connect("http://localhost", { createConnection: () => connect(socketPath) });
    session.on("error", () => {});
    return session;
  });
  let turn = 0;
  const request = (path: string, body: Buffer) => {
    const session = sessions[turn++ % sessions.length]!;
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/octet-stream" });
    stream.end(body);
    return stream;
  };
  return {
    echo(payload) {
      return new Promise((resolve, reject) => {
        const stream = request("/echo", frame(payload));
        stream.once("error", reject);
        collect(stream, (body) => resolve(unframe(body)));
      });
    },
    stream(count, size) {
      return new Promise((resolve, reject) => {
        const ask = Buffer.allocUnsafe(8);
        ask.writeUInt32BE(count, 0);
        ask.writeUInt32BE(size, 4);
        const stream = request("/stream", frame(ask));
        stream.once("error", reject);
        // Count framed messages as they arrive, across chunk boundaries.
        let messages = 0;
        let pending: Buffer = Buffer.alloc(0);
        stream.on("data", (chunk: Buffer) => {
          let buffer: Buffer = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
          while (buffer.length >= 4 && buffer.length >= 4 + buffer.readUInt32BE(0)) {
            buffer = buffer.subarray(4 + buffer.readUInt32BE(0));
            messages++;
          }
          pending = buffer;
        });
        stream.on("end", () => resolve(messages));
      });
    },
    close() {
      for (const session of sessions) session.close();
    },
  };
}
