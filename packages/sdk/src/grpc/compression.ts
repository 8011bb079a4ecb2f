/**
 * gzip for gRPC messages, both ways: the grpc-encoding a side sends its
 * compressed messages in, the grpc-accept-encoding it says it reads, the
 * per-message flag that marks a compressed one, and decompression bounded
 * by the size limit, so a small compressed message that would inflate past
 * it is RESOURCE_EXHAUSTED without ever being inflated whole.
 */
import { constants as zlibConstants, gunzipSync, gzipSync } from "node:zlib";
import { Code, ConnectError } from "@connectrpc/connect";

/** The one compression the SDK speaks besides identity. */
export const GZIP = "gzip";

/** The grpc-accept-encoding the SDK sends and answers with: what it reads. */
export const ACCEPT_ENCODING = "gzip,identity";

/** When to compress the messages a side sends. */
export interface CompressionOptions {
  /**
   * The smallest message compressed, in bytes; smaller ones go as they are
   * (the flag is per message). A message whose gzip is not smaller is sent
   * as it is too. Default 1 KiB.
   */
  minBytes?: number;
}

/** The smallest message compressed when compression is on and no minimum is given, in bytes. */
export const DEFAULT_COMPRESS_MIN_BYTES = 1024;

/** The smallest message to compress for options, or undefined when compression is off. */
export function compressMinBytes(options: CompressionOptions | false | undefined, field: string): number | undefined {
  if (options === undefined || options === false) return undefined;
  const minBytes = options.minBytes ?? DEFAULT_COMPRESS_MIN_BYTES;
  if (!Number.isInteger(minBytes) || minBytes < 0) throw new RangeError(`${field}.minBytes: ${String(minBytes)} is not a whole number of bytes, 0 or more`);
  return minBytes;
}

/** Inflates one compressed message; throws RESOURCE_EXHAUSTED past maxBytes, INTERNAL for bytes that are not gzip. */
export type Decompress = (bytes: Uint8Array, maxBytes: number) => Uint8Array;

/**
 * The decompressor for a grpc-encoding header: undefined for none or
 * identity, gunzip for gzip, and an UNIMPLEMENTED error naming what is
 * supported for anything else.
 */
export function decompressorFor(encoding: string | string[] | undefined): Decompress | undefined | ConnectError {
  if (encoding === undefined || encoding === "identity") return undefined;
  if (encoding === GZIP) return gunzip;
  return new ConnectError(`compression ${String(encoding)} is not supported (supported: ${ACCEPT_ENCODING})`, Code.Unimplemented);
}

/** Inflates a gzip message, refusing to produce more than maxBytes. */
export function gunzip(bytes: Uint8Array, maxBytes: number): Uint8Array {
  try {
    // maxOutputLength stops inflating once the output would pass the limit: a bomb never takes more memory than the limit.
    return gunzipSync(bytes, { maxOutputLength: Math.max(1, maxBytes) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
      throw new ConnectError(`message inflates past the configured readMaxBytes ${maxBytes}`, Code.ResourceExhausted);
    }
    throw new ConnectError(`protocol error: a gzip message does not decompress: ${(error as Error).message}`, Code.Internal);
  }
}

/** The gzip of message when it is smaller than message, else undefined. */
export function gzipIfSmaller(message: Uint8Array): Buffer | undefined {
  const compressed = gzipSync(message, { level: zlibConstants.Z_DEFAULT_COMPRESSION });
  return compressed.byteLength < message.byteLength ? compressed : undefined;
}

/** The gzip of message, whatever its size: the caller asked for a compressed message. */
export function gzip(message: Uint8Array): Buffer {
  return gzipSync(message, { level: zlibConstants.Z_DEFAULT_COMPRESSION });
}

/**
 * The gzip of message to send in its place, or undefined to send it as it
 * is. Nothing is compressed unless gzip was announced in the call's headers
 * (announced); then force (a MessageCompression's send) true compresses,
 * false does not, and undefined compresses a message of at least minBytes
 * (undefined: none) that gzip makes smaller.
 */
export function compressedOrNot(message: Uint8Array, announced: boolean, minBytes: number | undefined, force: boolean | undefined): Buffer | undefined {
  if (!announced || force === false) return undefined;
  if (force === true) return gzip(message);
  return minBytes !== undefined && message.byteLength >= minBytes ? gzipIfSmaller(message) : undefined;
}

/** Whether a grpc-accept-encoding header lists gzip. */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const text = Array.isArray(header) ? header.join(",") : header;
  if (!text.includes(GZIP)) return false;
  return text.split(",").some((name) => name.trim() === GZIP);
}
