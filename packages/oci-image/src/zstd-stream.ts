/**
 * zstd decompression as a Node stream, for tar+zstd layers: Node 20's zlib
 * has no zstd, so the frames are decoded by fzstd (pure JavaScript, no
 * native build). A corrupt frame fails the stream with fzstd's error.
 */
import { Transform } from "node:stream";
import { Decompress } from "fzstd";

/** The 4 bytes every zstd frame starts with. */
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/** Whether head starts with a zstd frame. */
export function isZstd(head: Uint8Array): boolean {
  return head.byteLength >= 4 && ZSTD_MAGIC.every((byte, i) => head[i] === byte);
}

/** A Transform that decompresses a zstd stream (one or more frames). */
export function createZstdDecompress(): Transform {
  let decoder: Decompress;
  const transform = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        decoder.push(chunk);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        decoder.push(new Uint8Array(0), true);
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  // fzstd may hand out views of buffers it reuses: each chunk is copied before it goes on.
  decoder = new Decompress((data) => transform.push(Buffer.from(data)));
  return transform;
}
