/**
 * The grpc-message trailer in the encoding the gRPC spec gives: only bytes
 * outside printable ASCII, and "%", are percent-encoded. connect-node encodes
 * every reserved character (":" as "%3A"), which clients that decode with
 * decodeURI, such as @grpc/grpc-js, then show as is.
 */
import type { Http2ServerRequest, Http2ServerResponse, OutgoingHttpHeaders } from "node:http2";

const GRPC_MESSAGE = "grpc-message";

/** Percent-encodes a status message as the gRPC spec says. */
export function encodeGrpcMessage(message: string): string {
  let encoded = "";
  for (const byte of Buffer.from(message, "utf8")) {
    encoded += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return encoded;
}

/** Rewrites a grpc-message header, as encoded by connect, to the spec's encoding. */
function respecMessage(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const value = headers[GRPC_MESSAGE];
  if (typeof value !== "string") return headers;
  let message: string;
  try {
    message = decodeURIComponent(value);
  } catch {
    return headers;
  }
  return { ...headers, [GRPC_MESSAGE]: encodeGrpcMessage(message) };
}

/** Wraps a node:http2 request handler so the trailers it adds carry a spec-encoded grpc-message. */
export function withSpecGrpcMessage(
  handler: (request: Http2ServerRequest, response: Http2ServerResponse) => void,
): (request: Http2ServerRequest, response: Http2ServerResponse) => void {
  return (request, response) => {
    const addTrailers = response.addTrailers.bind(response);
    response.addTrailers = (headers) => addTrailers(respecMessage(headers));
    handler(request, response);
  };
}
