/**
 * A connect Transport that speaks gRPC over node:http2 sessions to a
 * unix socket (see client-session.ts), with the least machinery: length-prefixed protobuf frames,
 * grpc-timeout from the call's deadline, status and details from trailers
 * into ConnectError, cancellation by RST_STREAM only while the response is
 * still unread, and backpressure on response streams (a reader that stops
 * reading stops the server through HTTP/2 flow control).
 */
import type { ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import { constants } from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescMessage, DescMethod, DescMethodStreaming, DescMethodUnary, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import type { ContextValues, Interceptor, StreamRequest, StreamResponse, Transport, UnaryRequest, UnaryResponse } from "@connectrpc/connect";
import { ClientSession } from "./client-session.js";
import { DeadlineTimer } from "./deadline.js";
import { chainInterceptors } from "./interceptor-chain.js";
import { ACCEPT_ENCODING, GZIP, compressedOrNot, decompressorFor } from "./compression.js";
import { FrameWriter } from "./frame-writer.js";
import { FrameReader, endWithMessage, messageTooLarge } from "./frames.js";
import type { MessageSink } from "./frames.js";
import { LazyHeaders, addMetadata } from "./lazy-headers.js";
import { MESSAGE_COMPRESSION } from "./message-compression.js";
import type { MessageCompression } from "./message-compression.js";
import { MessageQueue } from "./message-queue.js";
import {
  CONTENT_TYPE_PROTO,
  HEADER_ACCEPT_ENCODING,
  HEADER_ENCODING,
  HEADER_STATUS,
  HEADER_TIMEOUT,
  encodeTimeout,
  errorFromHttpStatus,
  errorFromNode,
  errorFromResetCode,
  errorFromStatus,
  isGrpcProto,
  joinedMetadata,
} from "./status.js";

/** The settings of a GrpcTransport. */
export interface GrpcTransportOptions {
  /** The unix socket of the server. */
  socketPath: string;
  /** Interceptors run on every call, as connect runs them. */
  interceptors?: Interceptor[];
  /** The largest response message accepted, in bytes; larger is RESOURCE_EXHAUSTED. */
  readMaxBytes: number;
  /** The largest request message sent, in bytes; larger is RESOURCE_EXHAUSTED. */
  writeMaxBytes: number;
  /** How many HTTP/2 connections calls are spread over at most; default DEFAULT_CONNECTIONS (see ClientSession). */
  connections?: number;
  /** The smallest request message gzip-compressed, in bytes; undefined never compresses. */
  compressMinBytes?: number;
}

/** Where a stream keeps its call, for the listeners all streams share. */
const CLIENT_CALL = Symbol("moby.grpc.client-call");

type CallStream = ClientHttp2Stream & { [CLIENT_CALL]?: ClientCall };
type AnyFn = (request: UnaryRequest | StreamRequest) => Promise<UnaryResponse | StreamResponse>;

/** gRPC over node:http2 to one unix socket, behind connect's Transport interface. */
export class GrpcTransport implements Transport {
  readonly #session: ClientSession;
  readonly #interceptors: Interceptor[];
  readonly #readMaxBytes: number;
  readonly #writeMaxBytes: number;
  readonly #compressMin: number | undefined;

  constructor(options: GrpcTransportOptions) {
    this.#session = new ClientSession(options.socketPath, options.connections);
    this.#interceptors = options.interceptors ?? [];
    this.#readMaxBytes = options.readMaxBytes;
    this.#writeMaxBytes = options.writeMaxBytes;
    this.#compressMin = options.compressMinBytes;
  }

  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: MessageInitShape<I>,
    contextValues?: ContextValues,
  ): Promise<UnaryResponse<I, O>> {
    let message: MessageShape<I>;
    try {
      message = create(method.input, input);
    } catch (error) {
      return Promise.reject(ConnectError.from(error, Code.Internal));
    }
    // As in connect's transports, a timeout of 0 or less means none.
    if (timeoutMs !== undefined && timeoutMs <= 0) timeoutMs = undefined;
    if (this.#interceptors.length === 0) return this.#unary(method, signal, timeoutMs, header, message, contextValues);
    const deadline = timeoutMs === undefined ? undefined : new Deadline(timeoutMs, signal);
    const request: UnaryRequest<I, O> = { ...requestBase(method, deadline?.signal ?? signal, header, contextValues), stream: false, method, message };
    const next = chainInterceptors<AnyFn>((req) =>
      this.#unary(req.method as DescMethodUnary, req.signal, deadline?.remaining(), req.header, req.message as MessageShape<DescMessage>, req.contextValues),
    this.#interceptors);
    const response = next(request) as Promise<UnaryResponse<I, O>>;
    if (deadline !== undefined) void response.then(deadline.clear, deadline.clear);
    return response;
  }

  stream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodStreaming<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: AsyncIterable<MessageInitShape<I>>,
    contextValues?: ContextValues,
  ): Promise<StreamResponse<I, O>> {
    if (timeoutMs !== undefined && timeoutMs <= 0) timeoutMs = undefined;
    if (this.#interceptors.length === 0) return this.#stream(method, signal, timeoutMs, header, input, contextValues);
    // The deadline outlives the call's start: its timer lapses by itself (unref'd) once the stream is over.
    const deadline = timeoutMs === undefined ? undefined : new Deadline(timeoutMs, signal);
    const request: StreamRequest<I, O> = {
      ...requestBase(method, deadline?.signal ?? signal, header, contextValues),
      stream: true,
      method,
      message: normalized(method.input, input),
    };
    const next = chainInterceptors<AnyFn>(
      (req) => this.#stream(req.method as DescMethodStreaming, req.signal, deadline?.remaining(), req.header, req.message as AsyncIterable<never>, req.contextValues),
      this.#interceptors,
    );
    return next(request) as Promise<StreamResponse<I, O>>;
  }

  /** Closes the connection: calls on it fail; a later call connects again. */
  close(): void {
    this.#session.close();
  }

  #unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    message: MessageShape<I>,
    contextValues: ContextValues | undefined,
  ): Promise<UnaryResponse<I, O>> {
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    let bytes: Uint8Array;
    try {
      bytes = toBinary(method.input, message);
    } catch (error) {
      return Promise.reject(ConnectError.from(error, Code.Internal));
    }
    if (bytes.byteLength > this.#writeMaxBytes) return Promise.reject(messageTooLarge(bytes.byteLength, this.#writeMaxBytes, "writeMaxBytes"));
    const compression = contextValues?.get(MESSAGE_COMPRESSION);
    const announced = this.#compressMin !== undefined || compression !== undefined;
    let stream: ClientHttp2Stream;
    try {
      stream = this.#session.request(requestHeaders(method, timeoutMs, header, announced));
    } catch (error) {
      return Promise.reject(errorFromNode(error, this.#session.socketPath));
    }
    const compressed = announced ? compressedOrNot(bytes, true, this.#compressMin, compression?.send) : undefined;
    return new Promise((resolve, reject) => {
      new UnaryCall(stream, method, this.#session, this.#readMaxBytes, signal, timeoutMs, compression, resolve as never, reject);
      endWithMessage(stream, compressed ?? bytes, compressed !== undefined);
    });
  }

  #stream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodStreaming<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: AsyncIterable<MessageInitShape<I>>,
    contextValues: ContextValues | undefined,
  ): Promise<StreamResponse<I, O>> {
    if (signal?.aborted === true) return Promise.reject(abortError(signal));
    const compression = contextValues?.get(MESSAGE_COMPRESSION);
    const announced = this.#compressMin !== undefined || compression !== undefined;
    // A request stream is reset through this signal: node:http2 then sends RST_STREAM alone,
    // where close() would end the request first, which the server would read as a complete upload.
    const upload = method.methodKind === "server_streaming" ? undefined : new AbortController();
    let stream: ClientHttp2Stream;
    try {
      const headers = requestHeaders(method, timeoutMs, header, announced);
      stream = this.#session.request(headers, upload === undefined ? undefined : { signal: upload.signal });
    } catch (error) {
      return Promise.reject(errorFromNode(error, this.#session.socketPath));
    }
    return new Promise((resolve, reject) => {
      const call = new StreamCall(stream, method, this.#session, this.#readMaxBytes, signal, timeoutMs, compression, upload, resolve as never, reject);
      void call.send(input as AsyncIterable<MessageInitShape<DescMessage>>, this.#writeMaxBytes, announced, this.#compressMin);
    });
  }
}

/**
 * A call's deadline as interceptors see it, started when the call starts:
 * a signal that aborts with DEADLINE_EXCEEDED when the deadline passes (or
 * with the caller's reason when the caller's signal aborts first), and the
 * time left for the grpc-timeout sent once the interceptors call next.
 */
class Deadline {
  readonly signal: AbortSignal;
  readonly #timer: DeadlineTimer<AbortController>;

  constructor(timeoutMs: number, caller: AbortSignal | undefined) {
    const controller = new AbortController();
    this.#timer = new DeadlineTimer(timeoutMs, timedOut, controller).unref();
    this.signal = caller === undefined ? controller.signal : AbortSignal.any([caller, controller.signal]);
  }

  /** The ms left until the deadline; 0 once it passed. */
  remaining(): number {
    return this.#timer.remaining();
  }

  /** Stops the timer: the call is over. */
  readonly clear = (): void => {
    this.#timer.clear();
  };
}

/** Aborts a deadline's controller with DEADLINE_EXCEEDED. */
function timedOut(controller: AbortController): void {
  controller.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
}

/** What a request shows interceptors, unary or streaming, as connect's requests carry it. */
function requestBase(method: DescMethod, signal: AbortSignal | undefined, header: HeadersInit | undefined, contextValues: ContextValues | undefined) {
  return {
    service: method.parent,
    requestMethod: "POST",
    url: `http://localhost/${method.parent.typeName}/${method.name}`,
    signal: signal ?? new AbortController().signal,
    header: new Headers(header),
    contextValues: contextValues ?? createContextValues(),
  };
}

/** The request headers of a call; compressed: its messages may be gzip-compressed. */
function requestHeaders(method: DescMethod, timeoutMs: number | undefined, header: HeadersInit | undefined, compressed: boolean): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    ":method": "POST",
    ":path": `/${method.parent.typeName}/${method.name}`,
    "content-type": CONTENT_TYPE_PROTO,
    te: "trailers",
    [HEADER_ACCEPT_ENCODING]: ACCEPT_ENCODING,
  };
  if (compressed) headers[HEADER_ENCODING] = GZIP;
  if (timeoutMs !== undefined) headers[HEADER_TIMEOUT] = encodeTimeout(timeoutMs);
  if (header !== undefined) addMetadata(headers, header instanceof Headers ? header : new Headers(header));
  return headers;
}

/** Messages normalized to full messages of desc, as connect normalizes them. */
function normalized<D extends DescMessage>(desc: D, input: AsyncIterable<MessageInitShape<D>>): AsyncIterable<MessageShape<D>> {
  return {
    async *[Symbol.asyncIterator]() {
      for await (const message of input) yield create(desc, message);
    },
  };
}

/** The error a call ends with when its signal aborts. */
function abortError(signal: AbortSignal): ConnectError {
  const reason: unknown = signal.reason;
  if (reason instanceof ConnectError) return reason;
  if (reason === undefined) return new ConnectError("the operation was aborted", Code.Canceled);
  return ConnectError.from(reason, Code.Canceled);
}

/** What unary and streaming calls share: the HTTP/2 stream, its response, deadline and cancellation. */
abstract class ClientCall implements MessageSink {
  protected header: IncomingHttpHeaders | undefined;
  protected trailer: IncomingHttpHeaders | undefined;
  protected done = false;
  protected readonly reader: FrameReader;
  private readonly deadline: DeadlineTimer<ClientCall> | undefined;
  private onAbort: (() => void) | undefined;

  constructor(
    protected readonly stream: CallStream,
    protected readonly method: DescMethod,
    private readonly session: ClientSession,
    readMaxBytes: number,
    private readonly signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
  ) {
    this.reader = new FrameReader(readMaxBytes, this);
    stream[CLIENT_CALL] = this;
    stream.on("response", onResponse);
    stream.on("data", onData);
    stream.on("trailers", onTrailers);
    stream.on("end", onEnd);
    stream.on("error", onError);
    stream.on("close", onClose);
    if (timeoutMs !== undefined) this.deadline = new DeadlineTimer<ClientCall>(timeoutMs, onTimeout, this);
    if (signal !== undefined) {
      this.onAbort = () => this.fail(abortError(signal));
      signal.addEventListener("abort", this.onAbort);
    }
  }

  /** A whole response message arrived; compressed: it came gzip-compressed. */
  abstract message(bytes: Uint8Array, compressed: boolean): void;
  /** The call ended with error (never undefined here): report it. */
  protected abstract failed(error: ConnectError): void;
  /** The response ended with status OK or error. */
  protected abstract ended(error: ConnectError | undefined): void;

  /** @internal */
  response(headers: IncomingHttpHeaders): void {
    this.header = headers;
    // A trailers-only response: the status is in the headers.
    if (headers[HEADER_STATUS] !== undefined) this.trailer = headers;
    const encoding = headers[HEADER_ENCODING];
    if (encoding !== undefined) {
      const decompress = decompressorFor(encoding);
      if (decompress instanceof ConnectError) this.fail(new ConnectError(`protocol error: the response is in ${String(encoding)}, which was not asked for`, Code.Internal));
      else this.reader.setDecompressor(decompress);
    }
  }

  /** @internal */
  data(chunk: Buffer): void {
    if (this.done) return;
    try {
      this.reader.push(chunk);
    } catch (error) {
      this.fail(ConnectError.from(error, Code.Internal));
    }
  }

  /** @internal */
  trailers(trailers: IncomingHttpHeaders): void {
    this.trailer = trailers;
  }

  /** @internal The response is complete: tell its status. */
  end(): void {
    if (this.done) return;
    // No status at all: the connection broke, or the server reset the stream.
    if (this.trailer === undefined) {
      const cut = this.cutShort();
      if (cut !== undefined) return this.fail(cut);
    }
    this.done = true;
    this.cleanup();
    this.ended(this.status());
  }

  /** @internal */
  error(error: unknown): void {
    if (this.done) return;
    const rst = this.stream.rstCode;
    if ((error as NodeJS.ErrnoException).code === "ERR_HTTP2_STREAM_ERROR" && rst !== undefined && rst !== constants.NGHTTP2_NO_ERROR) {
      // The server reset the stream: its code says why.
      this.fail(errorFromResetCode(rst, error));
      return;
    }
    // The server ended the connection and said why (for example GOAWAY ENHANCE_YOUR_CALM "too many connections").
    const goaway = this.session.goawayReason(this.stream);
    if (goaway !== undefined) return this.fail(new ConnectError(`the server closed the connection: ${goaway}`, Code.Unavailable));
    this.fail(errorFromNode(error, this.session.socketPath));
  }

  /** @internal The stream closed: if the response had not ended, the call failed. */
  close(): void {
    const cut = this.done ? undefined : (this.cutShort() ?? new ConnectError("the connection closed before the call ended", Code.Unavailable));
    this.session.release(this.stream);
    if (cut !== undefined) this.fail(cut);
  }

  /** @internal The deadline has passed: fails the call. */
  deadlinePassed(): void {
    this.fail(new ConnectError("the operation timed out", Code.DeadlineExceeded));
  }

  /**
   * Why the response stopped short, if it did: UNAVAILABLE when the
   * connection is gone (a retry may succeed), the reset's code when the
   * server reset the stream; undefined when the stream just ended.
   */
  private cutShort(): ConnectError | undefined {
    if (this.session.lost(this.stream)) return new ConnectError("the connection closed before the call ended", Code.Unavailable);
    const rst = this.stream.rstCode;
    if (rst !== undefined && rst !== constants.NGHTTP2_NO_ERROR) return errorFromResetCode(rst);
    return undefined;
  }

  /** Ends the call with error, resetting the stream if its response is still unread. */
  fail(error: ConnectError): void {
    if (this.done) return;
    this.done = true;
    this.cleanup();
    const stream = this.stream;
    if (!stream.closed && !stream.destroyed && !stream.readableEnded) this.reset();
    this.failed(error);
  }

  /** Resets the stream with CANCEL, as the call is abandoned. */
  protected reset(): void {
    this.stream.close(constants.NGHTTP2_CANCEL);
  }

  protected cleanup(): void {
    this.deadline?.clear();
    if (this.onAbort !== undefined) this.signal!.removeEventListener("abort", this.onAbort);
  }

  /** The status the response ended with: undefined for OK. */
  private status(): ConnectError | undefined {
    const header = this.header;
    if (header === undefined) return new ConnectError("protocol error: the response ended without headers", Code.Internal);
    const trailer = this.trailer;
    const httpStatus = Number(header[":status"]);
    if (httpStatus !== 200 && (trailer === undefined || trailer[HEADER_STATUS] === undefined)) {
      return errorFromHttpStatus(httpStatus, joinedMetadata(header, trailer));
    }
    if (trailer !== header && !isGrpcProto(header["content-type"])) {
      return new ConnectError(`protocol error: unsupported response content type ${String(header["content-type"])}`, Code.Internal, joinedMetadata(header, trailer));
    }
    const error = errorFromStatus(trailer ?? {}, () => joinedMetadata(header, trailer));
    if (error !== undefined) return error;
    if (!this.reader.atBoundary) return new ConnectError("protocol error: the response ended inside a message", Code.Internal);
    return undefined;
  }
}

/** A unary call: one message each way. */
class UnaryCall<I extends DescMessage, O extends DescMessage> extends ClientCall {
  private raw: Uint8Array | undefined;

  constructor(
    stream: CallStream,
    method: DescMethodUnary<I, O>,
    session: ClientSession,
    readMaxBytes: number,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    private readonly compression: MessageCompression | undefined,
    private readonly resolve: (response: UnaryResponse<I, O>) => void,
    private readonly reject: (error: ConnectError) => void,
  ) {
    super(stream, method, session, readMaxBytes, signal, timeoutMs);
  }

  message(bytes: Uint8Array, compressed: boolean): void {
    if (this.raw !== undefined) throw new ConnectError("protocol error: received extra output message for unary method", Code.Unimplemented);
    this.raw = bytes;
    if (this.compression !== undefined) this.compression.received = compressed;
  }

  protected failed(error: ConnectError): void {
    this.reject(error);
  }

  protected ended(error: ConnectError | undefined): void {
    if (error !== undefined) return this.reject(error);
    if (this.raw === undefined) return this.reject(new ConnectError("protocol error: missing output message for unary method", Code.Unimplemented));
    const method = this.method as DescMethodUnary<I, O>;
    let message: MessageShape<O>;
    try {
      message = fromBinary(method.output, this.raw);
    } catch (error) {
      return this.reject(new ConnectError(`parse binary: ${error instanceof Error ? error.message : String(error)}`, Code.Internal));
    }
    this.resolve({
      stream: false,
      service: method.parent,
      method,
      header: new LazyHeaders(this.header),
      trailer: new LazyHeaders(this.trailer),
      message,
    });
  }
}

/** A streaming call: the request messages are sent as the input yields them; the response is a MessageQueue. */
class StreamCall<I extends DescMessage, O extends DescMessage> extends ClientCall {
  private readonly queue: MessageQueue<MessageShape<O>>;
  private readonly trailerHeaders = new LazyHeaders();
  private writer: FrameWriter | undefined;
  private answered = false;

  constructor(
    stream: CallStream,
    method: DescMethodStreaming<I, O>,
    session: ClientSession,
    readMaxBytes: number,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    private readonly compression: MessageCompression | undefined,
    private readonly upload: AbortController | undefined,
    private readonly resolve: (response: StreamResponse<I, O>) => void,
    private readonly reject: (error: ConnectError) => void,
  ) {
    super(stream, method, session, readMaxBytes, signal, timeoutMs);
    const output = method.output;
    this.queue = new MessageQueue<MessageShape<O>>(
      (bytes, compressed) => {
        if (this.compression !== undefined) this.compression.received = compressed;
        try {
          return fromBinary(output, bytes);
        } catch (error) {
          throw new ConnectError(`parse binary: ${error instanceof Error ? error.message : String(error)}`, Code.Internal);
        }
      },
      {
        pause: () => this.stream.pause(),
        resume: () => this.stream.resume(),
        cancel: () => this.fail(new ConnectError("the reader stopped reading the response", Code.Canceled)),
      },
    );
  }

  /**
   * Sends the request messages, then ends the request; a failure ends the
   * call. announced: the request headers announced gzip, so messages may be
   * compressed (those of at least compressMin, or as the call's
   * MessageCompression says).
   */
  async send(input: AsyncIterable<MessageInitShape<DescMessage>>, writeMaxBytes: number, announced: boolean, compressMin: number | undefined): Promise<void> {
    const desc = this.method.input;
    const writer = (this.writer = new FrameWriter(this.stream));
    try {
      for await (const init of input) {
        if (this.done) return;
        const bytes = toBinary(desc, create(desc, init));
        if (bytes.byteLength > writeMaxBytes) throw messageTooLarge(bytes.byteLength, writeMaxBytes, "writeMaxBytes");
        const compressed = announced ? compressedOrNot(bytes, true, compressMin, this.compression?.send) : undefined;
        const wait = writer.write(compressed ?? bytes, compressed !== undefined);
        if (wait !== undefined) await wait;
      }
      if (this.done) return;
      writer.end();
    } catch (error) {
      this.fail(ConnectError.from(error, Code.Internal));
    }
  }

  override response(headers: IncomingHttpHeaders): void {
    super.response(headers);
    if (this.done) return;
    // A trailers-only response: the call settles at its end, rejecting with
    // its error as connect does, instead of resolving with a failing stream.
    if (this.trailer === undefined) this.answer(headers);
  }

  /** Resolves the call with the response's headers and its message stream. */
  private answer(headers: IncomingHttpHeaders): void {
    this.answered = true;
    const method = this.method as DescMethodStreaming<I, O>;
    this.resolve({
      stream: true,
      service: method.parent,
      method,
      header: new LazyHeaders(headers),
      trailer: this.trailerHeaders,
      message: this.queue,
    });
  }

  message(bytes: Uint8Array, compressed: boolean): void {
    this.queue.push(bytes, compressed);
  }

  protected failed(error: ConnectError): void {
    this.finishRequest();
    if (this.answered) this.queue.end(error);
    else this.reject(error);
  }

  protected ended(error: ConnectError | undefined): void {
    this.finishRequest();
    if (this.trailer !== undefined && this.trailer !== this.header) this.trailerHeaders.deliver(this.trailer);
    if (!this.answered) {
      if (error !== undefined) return this.reject(error);
      // A trailers-only OK: an empty stream.
      this.answer(this.header!);
    }
    this.queue.end(error);
  }

  /** Resets the stream; while the request is still being sent, without ending it first. */
  protected override reset(): void {
    if (this.upload !== undefined && !this.stream.writableEnded) this.upload.abort();
    else super.reset();
  }

  /** The response is over: stop sending, and half-close the request if it is still open. */
  private finishRequest(): void {
    this.writer?.close();
    const stream = this.stream;
    if (!stream.writableEnded && !stream.destroyed && !stream.closed) stream.end();
  }
}

function onResponse(this: CallStream, headers: IncomingHttpHeaders): void {
  this[CLIENT_CALL]!.response(headers);
}
function onData(this: CallStream, chunk: Buffer): void {
  this[CLIENT_CALL]!.data(chunk);
}
function onTrailers(this: CallStream, trailers: IncomingHttpHeaders): void {
  this[CLIENT_CALL]!.trailers(trailers);
}
function onEnd(this: CallStream): void {
  this[CLIENT_CALL]!.end();
}
function onError(this: CallStream, error: unknown): void {
  this[CLIENT_CALL]!.error(error);
}
function onClose(this: CallStream): void {
  this[CLIENT_CALL]!.close();
}
function onTimeout(call: ClientCall): void {
  call.deadlinePassed();
}
