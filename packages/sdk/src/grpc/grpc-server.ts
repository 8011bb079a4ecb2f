/**
 * A gRPC server on node:http2 with the least machinery: a "stream" listener
 * that routes /pkg.Service/Method to implementations registered the connect
 * way (Partial<ServiceImpl<S>>, typed by the generated descriptor), with
 * connect's interceptors and HandlerContext, and the gRPC wire protocol
 * (length-prefixed protobuf, status in trailers, grpc-timeout, metadata).
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { create } from "@bufbuild/protobuf";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { HandlerContext, Interceptor, ServiceImpl, StreamResponse, UnaryResponse } from "@connectrpc/connect";
import { chainInterceptors } from "./interceptor-chain.js";
import { ServerCall, contextOf } from "./server-call.js";
import type { CallObserver, InterceptedRequest, Route } from "./server-call.js";
import type { GrpcServerMetrics } from "../metrics/grpc-server-metrics.js";
import { ACCEPT_ENCODING, decompressorFor } from "./compression.js";
import { CONTENT_TYPE_PROTO, RESPOND_ONLY, HEADER_ACCEPT_ENCODING, HEADER_ENCODING, HEADER_TIMEOUT, addStatus, isGrpcProto, parseTimeout } from "./status.js";

export type { CallObserver } from "./server-call.js";
export { ServerCall } from "./server-call.js";

/** One service served: its descriptor and its (possibly partial) implementation. */
export interface GrpcService {
  service: DescService;
  implementation: Partial<ServiceImpl<DescService>>;
}

/** The settings of a GrpcServer. */
export interface GrpcServerOptions {
  /** The services served. */
  services: GrpcService[];
  /** The author's interceptors, applied around every handler as connect applies them. */
  interceptors?: Interceptor[];
  /** The largest request message accepted, in bytes; larger is RESOURCE_EXHAUSTED. */
  readMaxBytes: number;
  /** The largest response message sent, in bytes; larger is RESOURCE_EXHAUSTED. */
  writeMaxBytes: number;
  /** Told of every call's start and end. */
  observer?: CallObserver;
  /**
   * The smallest response message compressed with gzip for a client that
   * accepts gzip, in bytes; undefined never compresses.
   */
  compressMinBytes?: number;
  /** Where each method's calls are counted (go-grpc-prometheus' families); undefined counts nothing. */
  metrics?: GrpcServerMetrics;
}

type AnyFn = (request: InterceptedRequest) => Promise<UnaryResponse | StreamResponse>;
type Impl = (input: unknown, context: HandlerContext) => unknown;

/** Serves gRPC calls handed to it by a node:http2 server's "stream" event. */
export class GrpcServer {
  readonly readMaxBytes: number;
  readonly writeMaxBytes: number;
  readonly observer: CallObserver | undefined;
  readonly compressMinBytes: number | undefined;
  /** The calls running. */
  readonly calls = new Set<ServerCall>();
  private readonly routes = new Map<string, Route>();

  constructor(options: GrpcServerOptions) {
    this.readMaxBytes = options.readMaxBytes;
    this.writeMaxBytes = options.writeMaxBytes;
    this.observer = options.observer;
    this.compressMinBytes = options.compressMinBytes;
    const interceptors = options.interceptors ?? [];
    for (const { service, implementation } of options.services) {
      for (const method of service.methods) {
        const impl = implementationOf(service, method, implementation as Record<string, unknown>);
        const chain = interceptors.length === 0 ? undefined : chainInterceptors(innerFn(method, impl), interceptors);
        const stats = options.metrics?.method(service.typeName, method);
        this.routes.set(`/${service.typeName}/${method.name}`, { method, impl, chain, stats });
      }
    }
  }

  /** The listener for a node:http2 server's "stream" event. */
  readonly handleStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    if (headers[":method"] !== "POST") return refuseHttp(stream, 405);
    if (!isGrpcProto(headers["content-type"])) return refuseHttp(stream, 415);
    const path = headers[":path"] ?? "";
    const route = this.routes.get(path);
    if (route === undefined) return trailersOnly(stream, new ConnectError(`method ${path} is not implemented`, Code.Unimplemented));
    const decompress = decompressorFor(headers[HEADER_ENCODING]);
    if (decompress instanceof ConnectError) return trailersOnly(stream, decompress);
    const timeout = parseTimeout(headers[HEADER_TIMEOUT]);
    if (timeout instanceof ConnectError) return trailersOnly(stream, timeout);
    new ServerCall(this, route, stream, headers, timeout, decompress).start();
  };

  /** Ends every running call of a streaming method with reason. */
  abortStreams(reason: ConnectError): void {
    for (const call of [...this.calls]) if (call.method.methodKind !== "unary") call.abort(reason);
  }

  /** Ends every running call with reason. */
  abortAll(reason: ConnectError): void {
    for (const call of [...this.calls]) call.abort(reason);
  }
}

/** The implementation of method in implementation, bound to it, or one that answers UNIMPLEMENTED. */
function implementationOf(service: DescService, method: DescMethod, implementation: Record<string, unknown>): Impl {
  const fn = implementation[method.localName];
  if (typeof fn === "function") return (fn as Impl).bind(implementation);
  const message = `${service.typeName}.${method.name} is not implemented`;
  return () => {
    throw new ConnectError(message, Code.Unimplemented);
  };
}

/** The innermost function of an interceptor chain: runs the implementation, as connect's invokeImplementation does. */
function innerFn(method: DescMethod, impl: Impl): AnyFn {
  const output = method.output;
  const common = (request: InterceptedRequest, context: HandlerContext) => ({
    service: request.service,
    header: context.responseHeader,
    trailer: context.responseTrailer,
  });
  switch (method.methodKind) {
    case "unary":
      return async (request) => {
        const context = contextOf(request);
        const message = create(output, (await impl(request.message, context)) as never);
        return { ...common(request, context), stream: false, method, message } as UnaryResponse;
      };
    case "server_streaming":
      return async (request) => {
        const context = contextOf(request);
        const input = await single(request.message as AsyncIterable<unknown>);
        return { ...common(request, context), stream: true, method, message: impl(input, context) } as StreamResponse;
      };
    case "client_streaming":
      return async (request) => {
        const context = contextOf(request);
        const message = create(output, (await impl(request.message, context)) as never);
        return { ...common(request, context), stream: true, method, message: oneItem(message) } as StreamResponse;
      };
    case "bidi_streaming":
      return async (request) => {
        const context = contextOf(request);
        return { ...common(request, context), stream: true, method, message: impl(request.message, context) } as StreamResponse;
      };
  }
}

/** The one message of a stream that must have exactly one. */
async function single(messages: AsyncIterable<unknown>): Promise<unknown> {
  const iterator = messages[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done === true) throw new ConnectError("protocol error: missing input message for server-streaming method", Code.Unimplemented);
  const second = await iterator.next();
  if (second.done !== true) throw new ConnectError("protocol error: received extra input message for server-streaming method", Code.Unimplemented);
  return first.value;
}

async function* oneItem<T>(item: T): AsyncGenerator<T> {
  yield item;
}

/** Answers with a status and no message, in one HEADERS frame. */
function trailersOnly(stream: ServerHttp2Stream, error: ConnectError): void {
  stream.on("error", ignore);
  try {
    stream.respond(addStatus({ ":status": 200, "content-type": CONTENT_TYPE_PROTO, [HEADER_ACCEPT_ENCODING]: ACCEPT_ENCODING }, error), RESPOND_ONLY);
  } catch {
    // The client went away.
  }
  stream.resume();
}

/** Answers a request that is not gRPC with a bare HTTP status. */
function refuseHttp(stream: ServerHttp2Stream, status: number): void {
  stream.on("error", ignore);
  try {
    stream.respond({ ":status": status, ...(status === 405 ? { allow: "POST" } : {}) }, { endStream: true });
  } catch {
    // The client went away.
  }
  stream.resume();
}

function ignore(): void {}
