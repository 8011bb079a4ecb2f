/**
 * Per-call control of message compression, for a caller that decides
 * message by message (gRPC's interop cases, a proxy that keeps its peer's
 * choice): whether the message last read arrived compressed, and whether
 * the next ones sent are. Everyone else sets compression once, in the
 * options of the server or the connection.
 */
import { createContextKey } from "@connectrpc/connect";

/** One call's view and choice of compression, message by message. */
export class MessageCompression {
  /** Whether the message last handed to the reader arrived gzip-compressed (its flag was set). */
  received = false;
  /**
   * How the messages sent from now on are compressed: undefined as the
   * options say (minBytes), true each one gzip-compressed whatever its size,
   * false none. Compression needs gzip announced when the call's headers
   * went out: a client announces it when the call carries a
   * MessageCompression (or its connection compresses); a server, to a
   * client that accepts gzip, when this is set (true or false) before the
   * first response message (or the server compresses). Otherwise every
   * message goes as it is.
   */
  send: boolean | undefined = undefined;
}

/**
 * The context value that carries a call's MessageCompression. A client sets
 * one in the call's contextValues; a handler finds its call's in
 * context.values (made by the server, the received flag of a unary request
 * already set).
 */
export const MESSAGE_COMPRESSION = createContextKey<MessageCompression | undefined>(undefined, { description: "moby.message-compression" });
