/**
 * The gRPC status of a call on the wire: grpc-status, grpc-message (in the
 * spec's percent-encoding) and grpc-status-details-bin (a google.rpc.Status
 * carrying the error details), both ways; grpc-timeout both ways; and the
 * HTTP/2 stream reset codes and Node errors a client turns into codes.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerStreamResponseOptions } from "node:http2";
import { constants } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeFromHttpStatus, findTrailerError, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import { errorCodes, notListeningErrno } from "../errno.js";
import { LazyHeaders, addMetadata } from "./lazy-headers.js";

export const HEADER_STATUS = "grpc-status";
export const HEADER_MESSAGE = "grpc-message";
export const HEADER_DETAILS = "grpc-status-details-bin";
export const HEADER_TIMEOUT = "grpc-timeout";
export const HEADER_ENCODING = "grpc-encoding";
export const HEADER_ACCEPT_ENCODING = "grpc-accept-encoding";

/** The content type sent; any application/grpc and application/grpc+proto are accepted. */
export const CONTENT_TYPE_PROTO = "application/grpc+proto";

/**
 * The options of a response with messages, then trailers. No date header:
 * gRPC has no use for it, and it costs on both ends of every call.
 */
export const RESPOND_THEN_TRAILERS = { waitForTrailers: true, sendDate: false } as ServerStreamResponseOptions;

/** The options of a response that is only headers (trailers-only, or a refusal). */
export const RESPOND_ONLY = { endStream: true, sendDate: false } as ServerStreamResponseOptions;

/** Tells whether a content type is gRPC with the protobuf codec (application/grpc, +proto, with parameters). */
export function isGrpcProto(contentType: string | undefined): boolean {
  if (contentType === undefined || !contentType.startsWith("application/grpc")) return false;
  const rest = contentType.slice(16);
  return rest === "" || rest === "+proto" || rest.startsWith(";") || rest.startsWith("+proto;");
}

/** The message of grpc-message, decoded; a value that is not valid percent-encoding is taken as is. */
export function decodeGrpcMessage(value: string | string[] | undefined): string {
  if (value === undefined) return "";
  const text = Array.isArray(value) ? value.join(",") : value;
  if (!text.includes("%")) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Percent-encodes a status message as the gRPC spec says: only bytes outside
 * printable ASCII, and "%"; and spaces at either end, since HTTP/2 forbids a
 * field value to start or end with whitespace (nghttp2 drops such a field,
 * and the client would see no message at all).
 */
export function encodeGrpcMessage(message: string): string {
  let encoded = "";
  for (const byte of Buffer.from(message, "utf8")) {
    encoded += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return encoded.replace(/^ +| +$/g, (spaces) => "%20".repeat(spaces.length));
}

/** Escapes a status message only when it needs it: most are printable ASCII with no "%". */
function messageHeader(message: string): string {
  return /^[\x20-\x24\x26-\x7e]*$/.test(message) ? message : encodeGrpcMessage(message);
}

/**
 * Adds the status of error to target (grpc-status, grpc-message, the details
 * and the error's metadata), or grpc-status 0 when there is no error.
 */
export function addStatus(target: OutgoingHttpHeaders, error: ConnectError | undefined): OutgoingHttpHeaders {
  if (error === undefined) {
    target[HEADER_STATUS] = "0";
    return target;
  }
  addMetadata(target, error.metadata);
  target[HEADER_STATUS] = String(error.code);
  if (error.rawMessage !== "") target[HEADER_MESSAGE] = messageHeader(error.rawMessage);
  if (error.details.length > 0) {
    const encoded = setTrailerStatus(new Headers(), error).get(HEADER_DETAILS);
    if (encoded !== null) target[HEADER_DETAILS] = encoded;
  }
  return target;
}

/** A ConnectError from the HTTP status of a response that is not gRPC (no grpc-status). */
export function errorFromHttpStatus(status: number, metadata: Headers): ConnectError {
  return new ConnectError(`HTTP ${status}`, codeFromHttpStatus(status), metadata);
}

/**
 * The error a status in headers or trailers says, or undefined for OK;
 * undefined status is an error (the stream ended without one).
 * metadata becomes the error's metadata.
 */
export function errorFromStatus(fields: IncomingHttpHeaders, metadata: () => Headers): ConnectError | undefined {
  const status = fields[HEADER_STATUS];
  if (status === "0") return undefined;
  if (status === undefined) return new ConnectError("protocol error: the response ended without a grpc-status", Code.Internal, metadata());
  if (fields[HEADER_DETAILS] !== undefined) {
    const all = metadata();
    let found: ConnectError | undefined;
    try {
      found = findTrailerError(all);
    } catch (error) {
      found = ConnectError.from(error, Code.Internal);
    }
    if (found !== undefined) return found;
  }
  const code = Number(status);
  if (!Number.isInteger(code) || code < 1 || code > 16) {
    return new ConnectError(`protocol error: invalid grpc-status ${String(status)}`, Code.Internal, metadata());
  }
  return new ConnectError(decodeGrpcMessage(fields[HEADER_MESSAGE]), code as Code, metadata());
}

/** Joins response headers and trailers into one Headers, as connect gives them to errors. */
export function joinedMetadata(header: IncomingHttpHeaders, trailer: IncomingHttpHeaders | undefined): Headers {
  const joined = new LazyHeaders(header);
  if (trailer !== undefined && trailer !== header) joined.deliver(trailer);
  return joined;
}

/** The grpc-timeout value for a deadline in ms: at most 8 digits, in the finest unit that fits. */
export function encodeTimeout(ms: number): string {
  const whole = Math.max(0, Math.ceil(ms));
  if (whole < 1e8) return `${whole}m`;
  const seconds = Math.ceil(whole / 1000);
  if (seconds < 1e8) return `${seconds}S`;
  return `${Math.min(99_999_999, Math.ceil(seconds / 3600))}H`;
}

const TIMEOUT_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/** A grpc-timeout value in ms; undefined when absent; a ConnectError (INVALID_ARGUMENT) when malformed. */
export function parseTimeout(value: string | string[] | undefined): number | undefined | ConnectError {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0] ?? "" : value;
  const unit = TIMEOUT_UNIT_MS[text.charAt(text.length - 1)];
  const digits = text.slice(0, -1);
  if (unit === undefined || digits.length === 0 || digits.length > 8 || !/^\d+$/.test(digits)) {
    return new ConnectError(`protocol error: invalid grpc-timeout ${JSON.stringify(text)}`, Code.InvalidArgument);
  }
  return Number(digits) * unit;
}

/** The error of an HTTP/2 stream the peer reset with rstCode. */
export function errorFromResetCode(rstCode: number, nodeError?: unknown): ConnectError {
  const code =
    rstCode === constants.NGHTTP2_REFUSED_STREAM
      ? Code.Unavailable
      : rstCode === constants.NGHTTP2_CANCEL
        ? Code.Canceled
        : rstCode === constants.NGHTTP2_ENHANCE_YOUR_CALM
          ? Code.ResourceExhausted
          : rstCode === constants.NGHTTP2_INADEQUATE_SECURITY || rstCode === constants.NGHTTP2_HTTP_1_1_REQUIRED
            ? Code.PermissionDenied
            : rstCode === constants.NGHTTP2_NO_ERROR
              ? Code.Unavailable
              : Code.Internal;
  // REFUSED_STREAM promises the request was not processed: its cause says so, for retry policies.
  const cause =
    rstCode === constants.NGHTTP2_REFUSED_STREAM
      ? Object.assign(new Error("the server refused the stream unprocessed", { cause: nodeError }), { code: REFUSED_STREAM })
      : nodeError;
  return new ConnectError(`http/2 stream closed with error code ${rstCode}`, code, undefined, undefined, cause);
}

/** The code of the cause of an error from a stream the server refused without processing it. */
export const REFUSED_STREAM = "REFUSED_STREAM";

/**
 * The error of a connection or stream that failed in Node: UNAVAILABLE for
 * a socket nothing listens on (naming it, the errno error kept as cause, so
 * a retry policy can see the request never left) and for a connection that
 * broke; INTERNAL for anything else.
 */
export function errorFromNode(error: unknown, socketPath: string): ConnectError {
  // A ConnectError anywhere in the chain is what the stream was destroyed with on purpose.
  for (let cause: unknown = error, depth = 0; cause instanceof Error && depth < 10; cause = cause.cause, depth++) {
    if (cause instanceof ConnectError) return cause;
  }
  const codes = errorCodes(error);
  const notListening = notListeningErrno(error);
  if (notListening !== undefined) {
    return new ConnectError(`no component is serving on ${socketPath} (${notListening})`, Code.Unavailable, undefined, undefined, error);
  }
  const message = error instanceof Error ? error.message : String(error);
  const broken = codes.some((errno) => BROKEN.has(errno));
  return new ConnectError(message, broken ? Code.Unavailable : Code.Internal, undefined, undefined, error);
}

/** The Node error codes of a connection or stream that broke under a call. */
const BROKEN = new Set([
  "ECONNRESET",
  "EPIPE",
  "ERR_HTTP2_GOAWAY_SESSION",
  "ERR_HTTP2_INVALID_SESSION",
  "ERR_HTTP2_SESSION_ERROR",
  "ERR_HTTP2_STREAM_CANCEL",
  "ERR_HTTP2_STREAM_ERROR",
  "ERR_STREAM_DESTROYED",
]);
