/**
 * One gRPC call on the server: reads the request frames off its HTTP/2
 * stream, runs the handler (through the author's interceptors, if any) and
 * writes the response frames and the status. The call is also the handler's
 * context, connect's HandlerContext: its signal, headers and context values
 * are made only when a handler or interceptor asks for them.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { constants } from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import type { ContextValues, HandlerContext, StreamRequest, StreamResponse, UnaryRequest, UnaryResponse } from "@connectrpc/connect";
import { ACCEPT_ENCODING, GZIP, acceptsGzip, compressedOrNot } from "./compression.js";
import type { Decompress } from "./compression.js";
import { FrameReader, endWithMessage, messageTooLarge } from "./frames.js";
import type { MessageSink } from "./frames.js";
import { FrameWriter } from "./frame-writer.js";
import { LazyHeaders, addMetadata } from "./lazy-headers.js";
import { MessageCompression, MESSAGE_COMPRESSION } from "./message-compression.js";
import { MessageQueue } from "./message-queue.js";
import { SESSION_CALLS } from "./session-calls.js";
import type { CountedSession, SessionCalls } from "./session-calls.js";
import { DeadlineTimer } from "./deadline.js";
import type { MethodStats } from "../metrics/grpc-server-metrics.js";
import { CONTENT_TYPE_PROTO, HEADER_ACCEPT_ENCODING, HEADER_ENCODING, RESPOND_ONLY, RESPOND_THEN_TRAILERS, addStatus } from "./status.js";

/** What the server learns of each call: for the call guard's bookkeeping and logs. */
export interface CallObserver {
  /** A call arrived, before its handler runs; throw to refuse it (onEnd is then not called). */
  onStart(call: ServerCall): void;
  /** The error the caller receives for what a handler threw. */
  toError(error: unknown, call: ServerCall): ConnectError;
  /** A started call ended; error is undefined for OK. */
  onEnd(call: ServerCall, error: ConnectError | undefined): void;
}

/** A request as interceptors see it, with the call it belongs to. */
export type InterceptedRequest = (UnaryRequest | StreamRequest) & { [CALL]?: ServerCall };

/** The handler of one method, and its interceptor chain when the author has interceptors. */
export interface Route {
  readonly method: DescMethod;
  /** The implementation, bound to its service object. */
  readonly impl: (input: unknown, context: HandlerContext) => unknown;
  /** The interceptors applied around the implementation, or undefined when there are none. */
  readonly chain: ((request: InterceptedRequest) => Promise<UnaryResponse | StreamResponse>) | undefined;
  /** The method's metrics counts, or undefined when the server has no metrics. */
  readonly stats: MethodStats | undefined;
}

/** What a call needs of its server. */
export interface CallHost {
  readonly readMaxBytes: number;
  readonly writeMaxBytes: number;
  readonly observer: CallObserver | undefined;
  readonly calls: Set<ServerCall>;
  /** The smallest response message gzip-compressed for a client that accepts gzip; undefined for never. */
  readonly compressMinBytes: number | undefined;
}

/** The key under which an intercepted request carries its call. */
export const CALL: unique symbol = Symbol("moby.grpc.call");

/** The key under which a stream carries its call, for the listeners shared by all streams. */
const STREAM_CALL = Symbol("moby.grpc.stream-call");
/** The key under which a stream carries the trailers to send on "wantTrailers". */
const STREAM_TRAILERS = Symbol("moby.grpc.stream-trailers");

type CallStream = ServerHttp2Stream & { [STREAM_CALL]?: ServerCall; [STREAM_TRAILERS]?: OutgoingHttpHeaders };

const RUNNING = 0;
const RESPONDING = 1;
const FINISHED = 2;

/** The reason the signal of a call that ended normally is aborted with, as connect does. */
const CALL_ENDED = new ConnectError("the call has ended", Code.Canceled);
const CLIENT_CANCELLED = "the client cancelled the call";

/** The trailers of a call that ended OK with no trailer metadata; node:http2 copies what it sends. */
const OK_TRAILERS: OutgoingHttpHeaders = Object.freeze({ "grpc-status": "0" });

/** A gRPC call being served, and the HandlerContext of its handler. */
export class ServerCall implements HandlerContext, MessageSink {
  readonly method: DescMethod;
  readonly service: DescService;
  readonly requestMethod = "POST";
  readonly protocolName = "grpc";
  /** When the call arrived, from performance.now(). */
  readonly startedAt = performance.now();

  #host: CallHost;
  #route: Route;
  #stream: CallStream;
  #headers: IncomingHttpHeaders;
  #deadline: DeadlineTimer<ServerCall> | undefined;
  #controller: AbortController | undefined;
  #abortReason: ConnectError | undefined;
  #values: ContextValues | undefined;
  #requestHeader: LazyHeaders | undefined;
  #responseHeader: LazyHeaders | undefined;
  #responseTrailer: LazyHeaders | undefined;
  #state = RUNNING;
  #started = false;
  #reader: FrameReader;
  #single: Uint8Array | undefined;
  #input: MessageQueue<unknown> | undefined;
  #requestEnded = false;
  #dropInput = false;
  #writer: FrameWriter | undefined;
  #iterator: AsyncIterator<unknown> | undefined;
  /** The call counts of the session the call came on, when the connection guard keeps them. */
  #sessionCalls: SessionCalls | undefined;
  /** The smallest response message to compress: the client accepts gzip and the server compresses; else undefined. */
  #compressMin: number | undefined;
  /** The handler's view and choice of compression, made with the context values; undefined until then. */
  #compression: MessageCompression | undefined;
  /** Whether the request message last handed to the handler arrived compressed. */
  #receivedCompressed = false;
  /** Whether the response headers announced gzip: only then may a response message be compressed. */
  #gzipAnnounced = false;

  constructor(
    host: CallHost,
    route: Route,
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    timeoutMs: number | undefined,
    decompress: Decompress | undefined,
  ) {
    this.method = route.method;
    this.service = route.method.parent;
    this.#host = host;
    this.#route = route;
    this.#stream = stream;
    this.#headers = headers;
    this.#reader = new FrameReader(host.readMaxBytes, this, decompress);
    if (host.compressMinBytes !== undefined && acceptsGzip(headers[HEADER_ACCEPT_ENCODING])) this.#compressMin = host.compressMinBytes;
    // Coarse: the handler's signal aborts at most 100 ms after the deadline; the caller enforces its own exactly.
    if (timeoutMs !== undefined) this.#deadline = new DeadlineTimer<ServerCall>(timeoutMs, onDeadline, this, true);
  }

  /** The request's metadata. */
  get requestHeader(): Headers {
    return (this.#requestHeader ??= new LazyHeaders(this.#headers));
  }

  /** The response headers to send; set them before the first message of a stream. */
  get responseHeader(): Headers {
    return (this.#responseHeader ??= new LazyHeaders());
  }

  /** The response trailers to send. */
  get responseTrailer(): Headers {
    return (this.#responseTrailer ??= new LazyHeaders());
  }

  /** The URL of the call, as connect gives it. */
  get url(): string {
    return `http://${String(this.#headers[":authority"] ?? "localhost")}${String(this.#headers[":path"])}`;
  }

  /** Aborted when the deadline passes, the client cancels, the server shuts down, or the call ends. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(this.#abortReason);
      else if (this.#state === FINISHED) this.#controller.abort(CALL_ENDED);
    }
    return this.#controller.signal;
  }

  /** The per-call context values; MESSAGE_COMPRESSION holds the call's MessageCompression. */
  get values(): ContextValues {
    if (this.#values === undefined) {
      const compression = (this.#compression = new MessageCompression());
      compression.received = this.#receivedCompressed;
      this.#values = createContextValues().set(MESSAGE_COMPRESSION, compression);
    }
    return this.#values;
  }

  /** A function that tells the time left until the deadline, in ms, or undefined without one. */
  get timeoutMs(): () => number | undefined {
    const deadline = this.#deadline?.at;
    return () => (deadline === undefined ? undefined : deadline - Date.now());
  }

  /** Whether the call has ended (answered, failed or cancelled). */
  get finished(): boolean {
    return this.#state === FINISHED;
  }

  /** Starts the call: refuses it, or reads its request and runs its handler. */
  start(): void {
    const stats = this.#route.stats;
    if (stats !== undefined) stats.started++;
    const stream = this.#stream;
    stream[STREAM_CALL] = this;
    stream.on("error", ignore);
    stream.on("close", onStreamClose);
    stream.on("data", onStreamData);
    stream.on("end", onStreamEnd);
    const observer = this.#host.observer;
    if (observer !== undefined) {
      try {
        observer.onStart(this);
      } catch (error) {
        this.#finish(ConnectError.from(error, Code.Internal));
        return;
      }
    }
    this.#started = true;
    this.#host.calls.add(this);
    const counts = (stream.session as CountedSession | undefined)?.[SESSION_CALLS];
    if (counts !== undefined) {
      counts.open++;
      counts.started++;
      this.#sessionCalls = counts;
    }
    const kind = this.method.methodKind;
    if (kind === "client_streaming" || kind === "bidi_streaming") {
      const input = this.method.input;
      this.#input = new MessageQueue<unknown>((bytes, compressed) => {
        this.#noteReceived(compressed);
        return decodeMessage(input, bytes);
      }, {
        pause: () => this.#stream.pause(),
        resume: () => this.#stream.resume(),
        // The handler stopped reading the requests: let the rest flow in, and drop it.
        cancel: () => {
          this.#dropInput = true;
          this.#stream.resume();
        },
      });
      this.#invoke(this.#input);
    }
  }

  /** Ends the call with reason: sends it as the status, and aborts the handler's signal. */
  abort(reason: ConnectError): void {
    if (this.#state === FINISHED) return;
    this.#abortReason = reason;
    this.#finish(reason);
  }

  // -- the request --------------------------------------------------------

  /** @internal A request message was read. */
  message(bytes: Uint8Array, compressed: boolean): void {
    const stats = this.#route.stats;
    if (stats !== undefined) stats.received++;
    if (this.#input !== undefined) {
      if (!this.#dropInput) this.#input.push(bytes, compressed);
      return;
    }
    if (this.#single !== undefined) {
      throw new ConnectError(`protocol error: received extra input message for ${this.method.methodKind} method`, Code.Unimplemented);
    }
    this.#single = bytes;
    this.#receivedCompressed = compressed;
  }

  /** Records whether the request message being handed to the handler arrived compressed. */
  #noteReceived(compressed: boolean): void {
    this.#receivedCompressed = compressed;
    if (this.#compression !== undefined) this.#compression.received = compressed;
  }

  /** The gzip of a response message to send in its place, or undefined to send it as it is. */
  #compressed(bytes: Uint8Array): Buffer | undefined {
    if (this.#compressMin === undefined && this.#compression?.send === undefined) return undefined;
    return compressedOrNot(bytes, this.#gzipAnnounced, this.#compressMin, this.#compression?.send);
  }

  /**
   * Whether the response headers about to go announce gzip: the server
   * compresses, or the handler decides message by message (its
   * MessageCompression's send is set), and the client accepts gzip.
   */
  #announceGzip(): boolean {
    if (this.#compressMin !== undefined) return true;
    return this.#compression?.send !== undefined && acceptsGzip(this.#headers[HEADER_ACCEPT_ENCODING]);
  }

  #decode(bytes: Uint8Array): unknown {
    return decodeMessage(this.method.input, bytes);
  }

  /** @internal */
  onData(chunk: Buffer): void {
    if (this.#state === FINISHED) return;
    try {
      this.#reader.push(chunk);
    } catch (error) {
      this.#reader.stop();
      this.#fail(error);
    }
  }

  /** @internal */
  onEnd(): void {
    this.#requestEnded = true;
    if (this.#state === FINISHED) return;
    const incomplete = this.#reader.atBoundary ? undefined : new ConnectError("protocol error: the request ended inside a message", Code.Internal);
    if (this.#input !== undefined) {
      // A client's RST_STREAM also ends the request, and node:http2 tells it
      // ("aborted", "close") only after "end": look again a turn later, so
      // that a cancelled upload never reads as a complete one.
      setImmediate(endInput, this, incomplete);
      return;
    }
    if (incomplete !== undefined) return this.#fail(incomplete);
    if (this.#single === undefined) {
      return this.#fail(new ConnectError(`protocol error: missing input message for ${this.method.methodKind} method`, Code.Unimplemented));
    }
    let request: unknown;
    try {
      request = this.#decode(this.#single);
    } catch (error) {
      return this.#fail(error);
    }
    this.#single = undefined;
    this.#invoke(request);
  }

  /** @internal Ends the request messages a turn after the request ended: cleanly, unless the client cancelled meanwhile. */
  endInput(incomplete: ConnectError | undefined): void {
    if (this.#state === FINISHED) return;
    const stream = this.#stream;
    if (stream.aborted || (stream.rstCode !== undefined && stream.rstCode !== constants.NGHTTP2_NO_ERROR)) {
      this.abort(new ConnectError(CLIENT_CANCELLED, Code.Canceled));
      return;
    }
    this.#input!.end(incomplete);
  }

  /** @internal The deadline has passed: ends the call. */
  onDeadline(): void {
    this.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
  }

  /** @internal The stream closed: if the call was still running, the client went away. */
  onClose(): void {
    this.#writer?.close();
    if (this.#state === FINISHED) return;
    this.abort(new ConnectError(CLIENT_CANCELLED, Code.Canceled));
  }

  // -- the handler --------------------------------------------------------

  #invoke(input: unknown): void {
    const kind = this.method.methodKind;
    const chain = this.#route.chain;
    let result: unknown;
    try {
      if (chain !== undefined) {
        result = chain(this.#interceptedRequest(input));
      } else {
        result = this.#route.impl(input, this);
      }
    } catch (error) {
      return this.#fail(error);
    }
    if (chain !== undefined) {
      (result as Promise<UnaryResponse | StreamResponse>).then(
        (response) => {
          if (this.#state === FINISHED) return;
          copyHeaders(response.header, this.responseHeader);
          if (response.stream) void this.#pump(response.message, response.trailer);
          else {
            copyHeaders(response.trailer, this.responseTrailer);
            this.#respondUnary(response.message);
          }
        },
        (error: unknown) => this.#fail(error),
      );
      return;
    }
    if (kind === "unary" || kind === "client_streaming") {
      if (!isThenable(result)) return this.#respondUnary(result);
      result.then(
        (value) => this.#respondUnary(value),
        (error: unknown) => this.#fail(error),
      );
      return;
    }
    void this.#pump(result as AsyncIterable<unknown>, undefined);
  }

  #interceptedRequest(input: unknown): InterceptedRequest {
    const common = {
      service: this.service,
      requestMethod: this.requestMethod,
      url: this.url,
      signal: this.signal,
      header: this.requestHeader,
      contextValues: this.values,
      [CALL]: this,
    };
    const kind = this.method.methodKind;
    if (kind === "unary") return { ...common, stream: false, method: this.method as UnaryRequest["method"], message: input as UnaryRequest["message"] };
    const message = (kind === "server_streaming" ? singleItem(input) : input) as StreamRequest["message"];
    return { ...common, stream: true, method: this.method as StreamRequest["method"], message };
  }

  #respondUnary(value: unknown): void {
    if (this.#state === FINISHED) return;
    const output = this.method.output;
    let bytes: Uint8Array;
    try {
      bytes = toBinary(output, create(output, value as never));
    } catch (error) {
      return this.#fail(error);
    }
    if (bytes.byteLength > this.#host.writeMaxBytes) return this.#fail(messageTooLarge(bytes.byteLength, this.#host.writeMaxBytes, "writeMaxBytes"));
    const stream = this.#stream;
    let failure: ConnectError | undefined;
    if (!stream.destroyed && !stream.closed) {
      const trailer = this.#responseTrailer;
      try {
        stream[STREAM_TRAILERS] = trailer !== undefined && trailer.touched ? addStatus(addMetadata({}, trailer), undefined) : OK_TRAILERS;
        stream.on("wantTrailers", onWantTrailers);
        this.#gzipAnnounced = this.#announceGzip();
        const compressed = this.#compressed(bytes);
        const headers = addMetadata({ ":status": 200, "content-type": CONTENT_TYPE_PROTO }, this.#responseHeader);
        if (compressed !== undefined) {
          headers[HEADER_ENCODING] = GZIP;
          headers[HEADER_ACCEPT_ENCODING] = ACCEPT_ENCODING;
        }
        stream.respond(headers, RESPOND_THEN_TRAILERS);
        endWithMessage(stream, compressed ?? bytes, compressed !== undefined);
        const stats = this.#route.stats;
        if (stats !== undefined) stats.sent++;
      } catch (error) {
        failure = unsendable(stream, error);
      }
    }
    this.#end(failure);
  }

  async #pump(messages: AsyncIterable<unknown>, trailer: Headers | undefined): Promise<void> {
    const output = this.method.output;
    const limit = this.#host.writeMaxBytes;
    let iterator: AsyncIterator<unknown>;
    try {
      iterator = messages[Symbol.asyncIterator]();
    } catch (error) {
      return this.#fail(error);
    }
    this.#iterator = iterator;
    try {
      for (;;) {
        const next = await iterator.next();
        if (this.#state === FINISHED) return;
        if (next.done === true) break;
        const bytes = toBinary(output, create(output, next.value as never));
        if (bytes.byteLength > limit) throw messageTooLarge(bytes.byteLength, limit, "writeMaxBytes");
        if (this.#stream.destroyed) {
          // The client went away; "close" has not told us yet.
          this.abort(new ConnectError(CLIENT_CANCELLED, Code.Canceled));
          return;
        }
        if (this.#state === RUNNING) this.#respondHeaders();
        const compressed = this.#compressed(bytes);
        const wait = this.#writer!.write(compressed ?? bytes, compressed !== undefined);
        const stats = this.#route.stats;
        if (stats !== undefined) stats.sent++;
        if (wait !== undefined) await wait;
        if (this.#state === FINISHED) return;
      }
    } catch (error) {
      if (this.#state !== FINISHED) this.#fail(error);
      return;
    }
    this.#iterator = undefined;
    if (trailer !== undefined) copyHeaders(trailer, this.responseTrailer);
    this.#finish(undefined);
  }

  #respondHeaders(): void {
    const headers = addMetadata({ ":status": 200, "content-type": CONTENT_TYPE_PROTO }, this.#responseHeader);
    this.#gzipAnnounced = this.#announceGzip();
    if (this.#gzipAnnounced) {
      headers[HEADER_ENCODING] = GZIP;
      headers[HEADER_ACCEPT_ENCODING] = ACCEPT_ENCODING;
    }
    this.#stream.respond(headers, RESPOND_THEN_TRAILERS);
    this.#stream.on("wantTrailers", onWantTrailers);
    this.#writer = new FrameWriter(this.#stream);
    this.#state = RESPONDING;
  }

  #fail(error: unknown): void {
    if (this.#state === FINISHED) return;
    const observer = this.#host.observer;
    const status = observer !== undefined && this.#started ? observer.toError(error, this) : mapError(error);
    this.#finish(status);
  }

  /** Sends the status (in trailers, or as a trailers-only response when nothing was sent) and ends the call. */
  #finish(error: ConnectError | undefined): void {
    if (this.#state === FINISHED) return;
    const responding = this.#state === RESPONDING;
    const stream = this.#stream;
    let failure: ConnectError | undefined;
    if (!stream.destroyed && !stream.closed) {
      try {
        if (responding) {
          stream[STREAM_TRAILERS] = addStatus(addMetadata({}, this.#responseTrailer), error);
          this.#writer!.end();
        } else {
          const headers = addMetadata(addMetadata({ ":status": 200, "content-type": CONTENT_TYPE_PROTO }, this.#responseHeader), this.#responseTrailer);
          stream.respond(addStatus(headers, error), RESPOND_ONLY);
        }
      } catch (cause) {
        failure = unsendable(stream, cause);
      }
    }
    this.#end(failure ?? error);
  }

  /** Marks the call ended: stops its timer, its handler's reads and writes, and tells the observer. */
  #end(error: ConnectError | undefined): void {
    this.#state = FINISHED;
    this.#deadline?.clear();
    if (!this.#requestEnded) this.#stream.resume();
    if (this.#started) this.#host.calls.delete(this);
    if (this.#sessionCalls !== undefined) this.#sessionCalls.open--;
    const iterator = this.#iterator;
    if (iterator !== undefined) {
      this.#iterator = undefined;
      // Let the handler's generator run its finally blocks.
      try {
        void Promise.resolve(iterator.return?.()).catch(ignore);
      } catch {
        // A handler's iterator that throws on return: nothing to clean up then.
      }
    }
    this.#input?.end(error ?? new ConnectError("the call has ended", Code.Canceled));
    if (this.#controller !== undefined && !this.#controller.signal.aborted) this.#controller.abort(this.#abortReason ?? CALL_ENDED);
    if (this.#started) this.#host.observer?.onEnd(this, error);
    const stats = this.#route.stats;
    if (stats !== undefined) stats.ended(error === undefined ? 0 : error.code, (performance.now() - this.startedAt) / 1000);
  }
}

/** Decodes a message of desc, a failure as INTERNAL. */
function decodeMessage(desc: DescMessage, bytes: Uint8Array): unknown {
  try {
    return fromBinary(desc, bytes);
  } catch (error) {
    throw new ConnectError(`parse binary: ${error instanceof Error ? error.message : String(error)}`, Code.Internal);
  }
}

/** The error sent for what a handler threw, when no observer maps it. */
function mapError(error: unknown): ConnectError {
  return error instanceof ConnectError ? error : new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}

/** Replaces the contents of to with from, unless they are the same object. */
function copyHeaders(from: Headers, to: Headers): void {
  if (from === to) return;
  const keys: string[] = [];
  to.forEach((_, key) => keys.push(key));
  for (const key of keys) to.delete(key);
  from.forEach((value, key) => to.append(key, value));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as PromiseLike<unknown>).then === "function";
}

/** An async iterable of one item. */
function singleItem<T>(item: T): AsyncIterable<T> {
  return {
    async *[Symbol.asyncIterator]() {
      yield item;
    },
  };
}

function ignore(): void {}

function onDeadline(call: ServerCall): void {
  call.onDeadline();
}

function endInput(call: ServerCall, incomplete: ConnectError | undefined): void {
  call.endInput(incomplete);
}

/**
 * The error of a response node:http2 refused to send (metadata it does not
 * allow, say): the stream is reset, so the client learns of it (INTERNAL)
 * instead of waiting for an answer that will not come.
 */
function unsendable(stream: ServerHttp2Stream, cause: unknown): ConnectError {
  if (!stream.destroyed && !stream.closed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new ConnectError(`the response could not be sent: ${reason}`, Code.Internal, undefined, undefined, cause);
}

function onStreamData(this: CallStream, chunk: Buffer): void {
  this[STREAM_CALL]!.onData(chunk);
}

function onStreamEnd(this: CallStream): void {
  this[STREAM_CALL]!.onEnd();
}

function onStreamClose(this: CallStream): void {
  this[STREAM_CALL]!.onClose();
}

function onWantTrailers(this: CallStream): void {
  const trailers = this[STREAM_TRAILERS];
  try {
    this.sendTrailers(trailers ?? OK_TRAILERS);
  } catch {
    // Trailers node:http2 refuses: reset the stream rather than leave the client waiting.
    if (!this.destroyed && !this.closed) this.close(constants.NGHTTP2_INTERNAL_ERROR);
  }
}

/**
 * The context a handler gets under interceptors: the call's, with what the
 * request the interceptors passed on says (headers, signal, values), as
 * connect merges them.
 */
export function contextOf(request: InterceptedRequest): HandlerContext {
  const call = request[CALL];
  if (call === undefined) throw new ConnectError("an interceptor replaced the request without keeping its call", Code.Internal);
  return {
    method: call.method,
    service: request.service,
    signal: request.signal,
    timeoutMs: call.timeoutMs,
    requestMethod: request.requestMethod,
    requestHeader: request.header,
    responseHeader: call.responseHeader,
    responseTrailer: call.responseTrailer,
    protocolName: call.protocolName,
    values: request.contextValues,
    url: request.url,
  };
}
