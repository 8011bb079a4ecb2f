/**
 * What the raw node:http2 peers (http2, grpc-thin) share: reading a whole
 * body, and writing many messages with backpressure.
 */
import type { ServerHttp2Stream } from "node:http2";

/** Collects a stream's data into one buffer. */
export function collect(stream: NodeJS.ReadableStream, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  stream.on("end", () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
}

/** Writes count copies of message to stream, waiting for "drain" when its buffer is full, then ends it. */
export function pump(stream: ServerHttp2Stream, message: Buffer, count: number): void {
  let sent = 0;
  const next = () => {
    while (sent < count) {
      sent++;
      if (!stream.write(message)) {
        stream.once("drain", next);
        return;
      }
    }
    stream.end();
  };
  next();
}
