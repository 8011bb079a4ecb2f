/**
 * The worker thread of `LayerUnpackPool`: unpacks one layer at a time with
 * `unpackLayer`, its bytes arriving as messages from the main thread (each
 * acknowledged once the unpacker has taken it, which is the pool's flow
 * control), and answers with the result or the error.
 */
import { Readable } from "node:stream";
import { parentPort } from "node:worker_threads";
import { ComponentError } from "@moby-core/sdk";
import { UnsafeEntryError, unpackLayer } from "./layer-unpacker.js";
import type { ToUnpacker, FromUnpacker } from "./layer-unpack-pool.js";

const port = parentPort;
if (port === null) throw new Error("layer-unpack-worker runs as a worker thread of LayerUnpackPool");

let input: Readable | undefined;
/** Bytes received but not yet acknowledged because the unpacker had enough buffered. */
let unacked = 0;

function send(message: FromUnpacker): void {
  port!.postMessage(message);
}

function acknowledge(): void {
  if (unacked === 0) return;
  send({ type: "ack", bytes: unacked });
  unacked = 0;
}

async function run(root: string, layer: string, stream: Readable): Promise<void> {
  try {
    const result = await unpackLayer(stream, root, layer);
    send({ type: "done", result });
  } catch (error) {
    const kind = error instanceof UnsafeEntryError ? "unsafe" : error instanceof ComponentError ? "component" : "other";
    send({ type: "failed", kind, code: error instanceof ComponentError ? error.code : 0, message: (error as Error).message });
  } finally {
    stream.destroy();
    if (input === stream) input = undefined;
  }
}

port.on("message", (message: ToUnpacker) => {
  switch (message.type) {
    case "start": {
      const stream = new Readable({ read: acknowledge, highWaterMark: message.bufferBytes });
      input = stream;
      unacked = 0;
      void run(message.root, message.layer, stream);
      break;
    }
    case "chunk": {
      const bytes = Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength);
      unacked += bytes.byteLength;
      // push returns false once the unpacker has enough buffered: the acknowledgement waits for its next read.
      if (input?.push(bytes) !== false) acknowledge();
      break;
    }
    case "end":
      input?.push(null);
      break;
    case "abort":
      input?.destroy(new Error(message.reason));
      break;
  }
});
