// gRPC conformance of the SDK's engine (its own gRPC on node:http2), served
// in this process with serveComponent and called by the SDK's client, by
// connect-node's gRPC transport, by @grpc/grpc-js and by a raw node:http2
// client that looks at the frames:
// deadlines, cancellation, messages split over many frames, errors with
// details, trailers-only responses, unknown methods, gzip both ways,
// binary metadata, every streaming kind, interceptors and backpressure.
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { connect } from "node:net";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { create, createFileRegistry, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { DescService, MessageInitShape } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { BytesValueSchema, FileDescriptorProtoSchema, StringValueSchema, file_google_protobuf_wrappers } from "@bufbuild/protobuf/wkt";
import type { BytesValue } from "@bufbuild/protobuf/wkt";
import { createClient, createContextValues, decodeBinaryHeader, encodeBinaryHeader } from "@connectrpc/connect";
import type { CallOptions, Client, HandlerContext, Interceptor, ServiceImpl } from "@connectrpc/connect";
import { Http2SessionManager, createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, MESSAGE_COMPRESSION, MessageCompression, dialSocket, serveComponent, serviceOf } from "@moby-core/sdk";
import type { ComponentServer, Connection } from "@moby-core/sdk";
import { pino } from "pino";
import { scratchDirectory } from "../support/component-process.js";

// ---------------------------------------------------------------------------
// A test service with all four kinds of method, built at run time from a
// descriptor: google.protobuf.BytesValue in and out. What a handler does is
// chosen by the x-case header.

const fileProto = create(FileDescriptorProtoSchema, {
  name: "conformance/v1/conformance.proto",
  package: "conformance.v1",
  syntax: "proto3",
  dependency: ["google/protobuf/wrappers.proto"],
  service: [
    {
      name: "ConformanceService",
      method: [
        { name: "Unary", inputType: ".google.protobuf.BytesValue", outputType: ".google.protobuf.BytesValue" },
        { name: "ServerStream", inputType: ".google.protobuf.BytesValue", outputType: ".google.protobuf.BytesValue", serverStreaming: true },
        { name: "ClientStream", inputType: ".google.protobuf.BytesValue", outputType: ".google.protobuf.BytesValue", clientStreaming: true },
        {
          name: "Bidi",
          inputType: ".google.protobuf.BytesValue",
          outputType: ".google.protobuf.BytesValue",
          clientStreaming: true,
          serverStreaming: true,
        },
      ],
    },
  ],
});
const registry = createFileRegistry(fileProto, (name) => (name === "google/protobuf/wrappers.proto" ? file_google_protobuf_wrappers : undefined));
const ConformanceService: DescService = registry.getService("conformance.v1.ConformanceService")!;
const PATH = "/conformance.v1.ConformanceService";

type Bytes = MessageInitShape<typeof BytesValueSchema>;

/** The client of the test service, typed by hand (the descriptor is made at run time). */
interface ConformanceClient {
  unary(request: Bytes, options?: CallOptions): Promise<BytesValue>;
  serverStream(request: Bytes, options?: CallOptions): AsyncIterable<BytesValue>;
  clientStream(requests: AsyncIterable<Bytes>, options?: CallOptions): Promise<BytesValue>;
  bidi(requests: AsyncIterable<Bytes>, options?: CallOptions): AsyncIterable<BytesValue>;
}

/** What handlers saw, for the tests to look at. */
class Observations {
  private waiters = new Map<string, ((value: unknown) => void)[]>();
  private seen = new Map<string, unknown>();
  /** Produced messages of the backpressure case. */
  produced = 0;

  note(key: string, value: unknown = true): void {
    this.seen.set(key, value);
    for (const resolve of this.waiters.get(key) ?? []) resolve(value);
    this.waiters.delete(key);
  }

  /** Resolves with what was noted under key, or rejects after timeoutMs. */
  wait(key: string, timeoutMs = 5000): Promise<unknown> {
    if (this.seen.has(key)) return Promise.resolve(this.seen.get(key));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nothing noted as ${key} within ${timeoutMs} ms`)), timeoutMs);
      const list = this.waiters.get(key) ?? [];
      list.push((value) => {
        clearTimeout(timer);
        resolve(value);
      });
      this.waiters.set(key, list);
    });
  }
}

const observed = new Observations();

/** Notes the abort reason's code under `${id}:aborted` when the call's signal aborts. */
function watchAbort(context: HandlerContext): void {
  const id = context.requestHeader.get("x-id") ?? "";
  const note = () => observed.note(`${id}:aborted`, ConnectError.from(context.signal.reason).code);
  if (context.signal.aborted) note();
  else context.signal.addEventListener("abort", note, { once: true });
}

/** Rejects with the signal's reason once it aborts. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

const DETAIL = "the detail of the error";

/** The error the "fail-details" case throws. */
function errorWithDetails(): ConnectError {
  return new ConnectError("with details: 100% bad, naïve", Code.FailedPrecondition, undefined, [
    { desc: StringValueSchema, value: { value: DETAIL } },
  ]);
}

/** Copies x-trace-bin and x-plain into response header and trailer, as the "metadata" case does. */
function echoMetadata(context: HandlerContext): void {
  const trace = context.requestHeader.get("x-trace-bin");
  if (trace !== null) {
    const bytes = decodeBinaryHeader(trace);
    context.responseHeader.set("x-echo-bin", encodeBinaryHeader(bytes));
    context.responseTrailer.set("x-trailer-bin", encodeBinaryHeader(bytes));
  }
  context.responseHeader.set("x-plain", context.requestHeader.get("x-plain") ?? "");
}

/**
 * The "compression-echo" case: answers a request with one byte, 1 if it
 * arrived compressed and 0 if not, and sends that answer compressed the same way.
 */
function compressionEcho(context: HandlerContext): Bytes {
  const compression = context.values.get(MESSAGE_COMPRESSION)!;
  compression.send = compression.received;
  return { value: Uint8Array.of(compression.received ? 1 : 0) };
}

const implementation = {
  async unary(request: BytesValue, context: HandlerContext) {
    const id = context.requestHeader.get("x-id") ?? "";
    switch (context.requestHeader.get("x-case")) {
      case "wait":
        watchAbort(context);
        observed.note(`${id}:started`);
        return untilAborted(context.signal);
      case "fail-details":
        throw errorWithDetails();
      case "fail-now":
        throw new ConnectError("refused at once", Code.PermissionDenied);
      case "metadata":
        echoMetadata(context);
        return { value: request.value };
      case "compression-echo":
        return compressionEcho(context);
      case "interceptor":
        return { value: new TextEncoder().encode(context.requestHeader.get("x-from-client-interceptor") ?? "") };
      case "slow":
        await new Promise((resolve) => setTimeout(resolve, 100));
        return { value: request.value };
      case "already-encoded": {
        // The value goes out as bytes already encoded, as an unknown field of its number (the container store's listings do so).
        const answer = create(BytesValueSchema);
        answer.$unknown = [{ no: BytesValueSchema.field.value!.number, wireType: WireType.LengthDelimited, data: new BinaryWriter().bytes(request.value).finish() }];
        return answer;
      }
      case "same-header-twice":
        // A trailers-only error carries header and trailer in one HEADERS frame: etag twice.
        context.responseHeader.set("etag", "one");
        context.responseTrailer.set("etag", "two");
        throw new ConnectError("refused with metadata", Code.FailedPrecondition);
      default:
        return { value: request.value };
    }
  },
  async *serverStream(request: BytesValue, context: HandlerContext) {
    const id = context.requestHeader.get("x-id") ?? "";
    switch (context.requestHeader.get("x-case")) {
      case "fail-now":
        throw new ConnectError("refused at once", Code.PermissionDenied);
      case "fail-after-2":
        yield { value: new Uint8Array([1]) };
        yield { value: new Uint8Array([2]) };
        throw errorWithDetails();
      case "metadata":
        echoMetadata(context);
        yield { value: request.value };
        return;
      case "wait":
        watchAbort(context);
        observed.note(`${id}:started`);
        yield { value: new Uint8Array([1]) };
        await untilAborted(context.signal);
        return;
      case "flood": {
        // Large messages without end: only backpressure keeps this bounded.
        const message = { value: new Uint8Array(64 * 1024) };
        for (;;) {
          observed.produced++;
          yield message;
        }
      }
      default: {
        const count = request.value[0] ?? 0;
        for (let i = 0; i < count; i++) yield { value: new Uint8Array([i]) };
      }
    }
  },
  async clientStream(requests: AsyncIterable<BytesValue>, context: HandlerContext) {
    const chunks: Uint8Array[] = [];
    if (context.requestHeader.get("x-case") === "watch-input") {
      // Notes how reading the requests ended: "clean" after the last one, or the error's code.
      const id = context.requestHeader.get("x-id") ?? "";
      try {
        for await (const request of requests) chunks.push(request.value);
        observed.note(`${id}:input`, `clean after ${chunks.length}`);
      } catch (error) {
        observed.note(`${id}:input`, ConnectError.from(error).code);
        throw error;
      }
      return { value: Buffer.concat(chunks) };
    }
    for await (const request of requests) chunks.push(request.value);
    return { value: Buffer.concat(chunks) };
  },
  async *bidi(requests: AsyncIterable<BytesValue>, context: HandlerContext) {
    const echo = context.requestHeader.get("x-case") === "compression-echo";
    for await (const request of requests) yield echo ? compressionEcho(context) : { value: request.value };
  },
};

// ---------------------------------------------------------------------------
// Clients: the SDK's, grpc-js's, and raw node:http2.

/** The gRPC clients on connect's API that call the server: the SDK's own, and connect-node's (a peer no one here wrote). */
const CLIENTS = ["sdk", "connect-node"] as const;
type ClientKind = (typeof CLIENTS)[number];

/** A connection of either client. */
interface Dialed {
  client<S extends DescService>(service: S): Client<S>;
  close(): void;
}

/** Dials socketPath with the client of kind (the SDK's without retries). */
function dialWith(kind: ClientKind, socketPath: string, options: { interceptors?: Interceptor[] } = {}): Dialed {
  if (kind === "sdk") return dialSocket(socketPath, { retry: false, ...options });
  const sessions = new Http2SessionManager("http://localhost", {}, { createConnection: () => connect(socketPath) });
  const transport = createGrpcTransport({ baseUrl: "http://localhost", sessionManager: sessions, ...options });
  return { client: (service) => createClient(service, transport), close: () => sessions.abort() };
}

/** An async iterable of the given messages, yielded one per turn. */
async function* messages(...values: Uint8Array[]): AsyncGenerator<Bytes> {
  for (const value of values) yield { value };
}

/** The ConnectError a promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  assert.fail("expected the call to fail");
}

/** Every message of a stream, and the error it ended with (if any). */
async function drain(stream: AsyncIterable<BytesValue>): Promise<{ values: Uint8Array[]; error?: ConnectError }> {
  const values: Uint8Array[] = [];
  try {
    for await (const message of stream) values.push(message.value);
  } catch (error) {
    return { values, error: ConnectError.from(error) };
  }
  return { values };
}

/** The bytes as a plain Uint8Array, so that a Buffer and a Uint8Array of the same bytes compare equal. */
function plain(bytes: Uint8Array | undefined): Uint8Array {
  return new Uint8Array(bytes ?? []);
}

/** Asserts two lists of byte arrays hold the same bytes. */
function sameBytes(actual: Uint8Array[], expected: Uint8Array[]): void {
  assert.deepEqual(actual.map(plain), expected.map(plain));
}

/** 3 MiB of varied bytes. */
function bigPayload(): Uint8Array {
  const bytes = new Uint8Array(3 * 1024 * 1024);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 11)) & 0xff;
  return bytes;
}

const serializeBytes = (value: Uint8Array) => Buffer.from(toBinary(BytesValueSchema, create(BytesValueSchema, { value })));
const deserializeBytes = (bytes: Buffer) => fromBinary(BytesValueSchema, bytes).value;

/** A grpc-js unary call of method with value and metadata; resolves with the answer, headers and status. */
function grpcJsUnary(client: grpc.Client, method: string, value: Uint8Array, metadata = new grpc.Metadata()) {
  return new Promise<{ error: grpc.ServiceError | null; value?: Uint8Array; headers?: grpc.Metadata; status: grpc.StatusObject }>((resolve) => {
    let headers: grpc.Metadata | undefined;
    let result: { error: grpc.ServiceError | null; value?: Uint8Array } | undefined;
    const call = client.makeUnaryRequest(`${PATH}/${method}`, serializeBytes, deserializeBytes, value, metadata, { deadline: Date.now() + 10_000 }, (error, answer) => {
      result = { error, ...(answer === undefined ? {} : { value: answer }) };
    });
    call.on("metadata", (received) => (headers = received));
    call.on("status", (status) => setImmediate(() => resolve({ ...result!, ...(headers === undefined ? {} : { headers }), status })));
  });
}

/** What a raw HTTP/2 request got back: headers (and whether they ended the stream), data and trailers. */
interface RawAnswer {
  headers: http2.IncomingHttpHeaders;
  endedWithHeaders: boolean;
  data: Buffer;
  trailers?: http2.IncomingHttpHeaders;
  rstCode?: number;
}

/** Sends a raw HTTP/2 request with body to socketPath; resets it after resetAfterMs when given. */
function rawRequest(socketPath: string, headers: http2.OutgoingHttpHeaders, body: Buffer, resetAfterMs?: number): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect("http://localhost", { createConnection: () => connect(socketPath) });
    session.on("error", reject);
    const stream = session.request({ ":method": "POST", "content-type": "application/grpc", te: "trailers", ...headers });
    const chunks: Buffer[] = [];
    let answer: Partial<RawAnswer> = {};
    stream.on("response", (responseHeaders, flags) => {
      answer = { headers: responseHeaders, endedWithHeaders: (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0 };
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("trailers", (trailers: http2.IncomingHttpHeaders) => (answer.trailers = trailers));
    stream.on("error", () => {});
    stream.on("close", () => {
      session.close();
      resolve({ ...(answer as RawAnswer), data: Buffer.concat(chunks), rstCode: stream.rstCode });
    });
    stream.end(body);
    if (resetAfterMs !== undefined) setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), resetAfterMs);
  });
}

/** One length-prefixed message. */
function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

let ids = 0;
const nextId = () => `call-${++ids}`;

// ---------------------------------------------------------------------------

const scratch = scratchDirectory("moby-conformance-");
after(() => scratch.remove());

/** Serves the test service, in this process. */
async function serve(extra: { interceptors?: Interceptor[]; compression?: { minBytes?: number } } = {}): Promise<ComponentServer> {
  return serveComponent({
    name: "conformance",
    version: "1.0.0",
    services: [serviceOf(ConformanceService, implementation as unknown as Partial<ServiceImpl<DescService>>)],
    socketPath: join(scratch.dir, `conformance-${++ids}.sock`),
    handleSignals: false,
    logger: pino({ level: "silent" }),
    shutdownGraceMs: 200,
    ...extra,
  });
}

describe("server", () => {
    let server: ComponentServer;

    before(async () => {
      server = await serve();
    });

    after(async () => {
      await server?.shutdown();
    });

    for (const clientKind of CLIENTS) {
      describe(`<- ${clientKind} client`, () => {
        let connection: Dialed;
        let client: ConformanceClient;

        before(() => {
          connection = dialWith(clientKind, server.socketPath);
          client = connection.client(ConformanceService) as unknown as ConformanceClient;
        });

        after(() => connection?.close());

        it("echoes unary, server-streaming, client-streaming and bidi calls", async () => {
          const unary = (await client.unary({ value: new Uint8Array([7, 8]) })).value;
          sameBytes([unary], [new Uint8Array([7, 8])]);
          if (clientKind === "sdk") assert.equal(Object.getPrototypeOf(unary), Uint8Array.prototype, "bytes fields are plain Uint8Arrays, not Buffers");
          sameBytes((await drain(client.serverStream({ value: new Uint8Array([3]) }))).values, [new Uint8Array([0]), new Uint8Array([1]), new Uint8Array([2])]);
          sameBytes([(await client.clientStream(messages(new Uint8Array([1]), new Uint8Array([2, 3])))).value], [new Uint8Array([1, 2, 3])]);
          sameBytes((await drain(client.bidi(messages(new Uint8Array([4]), new Uint8Array([5]))))).values, [new Uint8Array([4]), new Uint8Array([5])]);
        });

        it("sends a field the handler passes already encoded (an unknown field), which the client reads as the field", async () => {
          const answer = await client.unary({ value: new Uint8Array([4, 2]) }, { headers: { "x-case": "already-encoded" } });
          sameBytes([answer.value], [new Uint8Array([4, 2])]);
        });

        it("sends and receives a 3 MiB message split over many frames, unary and streaming", async () => {
          const payload = bigPayload();
          sameBytes([(await client.unary({ value: payload })).value], [payload]);
          sameBytes((await drain(client.bidi(messages(payload, payload.subarray(5))))).values, [payload, payload.subarray(5)]);
        });

        it("fails with DEADLINE_EXCEEDED at the deadline, and the handler sees the abort", async () => {
          const id = nextId();
          const started = Date.now();
          const error = await rejection(client.unary({}, { timeoutMs: 200, headers: { "x-case": "wait", "x-id": id } }));
          assert.equal(error.code, Code.DeadlineExceeded, error.message);
          assert.ok(Date.now() - started < 3000);
          await observed.wait(`${id}:aborted`);
        });

        it("cancels a unary call: the client gets CANCELED, the handler sees the abort", async () => {
          const id = nextId();
          const abort = new AbortController();
          const call = client.unary({}, { signal: abort.signal, headers: { "x-case": "wait", "x-id": id } });
          await observed.wait(`${id}:started`);
          abort.abort();
          assert.equal((await rejection(call)).code, Code.Canceled);
          assert.equal(await observed.wait(`${id}:aborted`), Code.Canceled);
        });

        it("cancels a server stream: the handler sees the abort", async () => {
          const id = nextId();
          const abort = new AbortController();
          const stream = client.serverStream({}, { signal: abort.signal, headers: { "x-case": "wait", "x-id": id } });
          const ended = drain(stream);
          await observed.wait(`${id}:started`);
          abort.abort();
          assert.equal((await ended).error?.code, Code.Canceled);
          await observed.wait(`${id}:aborted`);
        });

        it("receives an error with its details (grpc-status-details-bin), unary and after stream messages", async () => {
          const error = await rejection(client.unary({}, { headers: { "x-case": "fail-details" } }));
          assert.equal(error.code, Code.FailedPrecondition);
          assert.equal(error.rawMessage, "with details: 100% bad, naïve");
          assert.deepEqual(error.findDetails(StringValueSchema).map((d) => d.value), [DETAIL]);
          const { values, error: streamError } = await drain(client.serverStream({}, { headers: { "x-case": "fail-after-2" } }));
          sameBytes(values, [new Uint8Array([1]), new Uint8Array([2])]);
          assert.equal(streamError?.code, Code.FailedPrecondition);
          assert.deepEqual(streamError?.findDetails(StringValueSchema).map((d) => d.value), [DETAIL]);
        });

        it("reads trailers-only error responses, unary and streaming", async () => {
          const error = await rejection(client.unary({}, { headers: { "x-case": "fail-now" } }));
          assert.equal(error.code, Code.PermissionDenied);
          assert.equal(error.rawMessage, "refused at once");
          const { values, error: streamError } = await drain(client.serverStream({}, { headers: { "x-case": "fail-now" } }));
          assert.deepEqual(values, []);
          assert.equal(streamError?.code, Code.PermissionDenied);
        });

        it("round-trips binary and text metadata in headers and trailers", async () => {
          const bytes = new Uint8Array([0, 1, 2, 0xfe, 0xff, 0x80, 10, 13]);
          for (const kind of ["unary", "stream"] as const) {
            let header: Headers | undefined;
            let trailer: Headers | undefined;
            const options: CallOptions = {
              headers: { "x-case": "metadata", "x-trace-bin": encodeBinaryHeader(bytes), "x-plain": "hello world" },
              onHeader: (h) => (header = h),
              onTrailer: (t) => (trailer = t),
            };
            if (kind === "unary") await client.unary({ value: bytes }, options);
            else await drain(client.serverStream({ value: bytes }, options));
            assert.deepEqual(plain(decodeBinaryHeader(header?.get("x-echo-bin") ?? "")), bytes, kind);
            assert.equal(header?.get("x-plain"), "hello world", kind);
            assert.deepEqual(plain(decodeBinaryHeader(trailer?.get("x-trailer-bin") ?? "")), bytes, kind);
          }
        });

        it("close() fails the calls in flight with CANCELED, and the next call connects again", async () => {
          const own = dialWith(clientKind, server.socketPath);
          const ownClient = own.client(ConformanceService) as unknown as ConformanceClient;
          try {
            const id = nextId();
            const call = ownClient.unary({}, { headers: { "x-case": "wait", "x-id": id } });
            await observed.wait(`${id}:started`);
            own.close();
            assert.equal((await rejection(call)).code, Code.Canceled);
            await observed.wait(`${id}:aborted`);
            sameBytes([(await ownClient.unary({ value: new Uint8Array([1]) })).value], [new Uint8Array([1])]);
          } finally {
            own.close();
          }
        });

        it("fails a call of a method the server does not serve with UNIMPLEMENTED", async () => {
          const other = createFileRegistry(
            create(FileDescriptorProtoSchema, {
              name: "other/v1/other.proto",
              package: "other.v1",
              syntax: "proto3",
              dependency: ["google/protobuf/wrappers.proto"],
              service: [{ name: "Missing", method: [{ name: "Unary", inputType: ".google.protobuf.BytesValue", outputType: ".google.protobuf.BytesValue" }] }],
            }),
            () => file_google_protobuf_wrappers,
          ).getService("other.v1.Missing")!;
          const missing = connection.client(other) as unknown as Pick<ConformanceClient, "unary">;
          assert.equal((await rejection(missing.unary({}))).code, Code.Unimplemented);
        });
      });
    }

    describe("<- @grpc/grpc-js client", () => {
      let client: grpc.Client;

      before(() => {
        client = new grpc.Client(`unix:${server.socketPath}`, grpc.credentials.createInsecure());
      });

      after(() => client?.close());

      it("echoes a 3 MiB message", async () => {
        const payload = bigPayload();
        const { error, value } = await grpcJsUnary(client, "Unary", payload);
        assert.equal(error, null);
        sameBytes([value!], [payload]);
      });

      it("reads a trailers-only error with its code and message", async () => {
        const metadata = new grpc.Metadata();
        metadata.set("x-case", "fail-now");
        const { error } = await grpcJsUnary(client, "Unary", new Uint8Array(), metadata);
        assert.equal(error?.code, grpc.status.PERMISSION_DENIED);
        assert.equal(error?.details, "refused at once");
      });

      it("reads an error with details: code, spec-encoded message, grpc-status-details-bin", async () => {
        const metadata = new grpc.Metadata();
        metadata.set("x-case", "fail-details");
        const { error } = await grpcJsUnary(client, "Unary", new Uint8Array(), metadata);
        assert.equal(error?.code, grpc.status.FAILED_PRECONDITION);
        assert.equal(error?.details, "with details: 100% bad, naïve");
        const details = error?.metadata.get("grpc-status-details-bin")[0];
        assert.ok(Buffer.isBuffer(details) && details.length > 0, "grpc-status-details-bin is there");
        assert.ok(details.includes(Buffer.from(DETAIL)), "and carries the detail");
      });

      it("answers an unknown method and an unknown service with UNIMPLEMENTED", async () => {
        assert.equal((await grpcJsUnary(client, "NoSuchMethod", new Uint8Array())).status.code, grpc.status.UNIMPLEMENTED);
        const call = await new Promise<grpc.StatusObject>((resolve) =>
          client
            .makeUnaryRequest("/no.such.v1.Service/Call", serializeBytes, deserializeBytes, new Uint8Array(), () => {})
            .on("status", resolve),
        );
        assert.equal(call.code, grpc.status.UNIMPLEMENTED);
      });

      it("round-trips binary metadata in headers and trailers", async () => {
        const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80]);
        const metadata = new grpc.Metadata();
        metadata.set("x-case", "metadata");
        metadata.set("x-trace-bin", bytes);
        metadata.set("x-plain", "plain");
        const { error, headers, status } = await grpcJsUnary(client, "Unary", new Uint8Array([1]), metadata);
        assert.equal(error, null);
        assert.deepEqual(headers?.get("x-echo-bin"), [bytes]);
        assert.deepEqual(headers?.get("x-plain"), ["plain"]);
        assert.deepEqual(status.metadata.get("x-trailer-bin"), [bytes]);
      });
    });

    describe("<- raw node:http2", () => {
      it("answers an error before any message with its status (trailers-only: one HEADERS frame with END_STREAM, moby)", async () => {
        const answer = await rawRequest(server.socketPath, { ":path": `${PATH}/Unary`, "x-case": "fail-now" }, frame(new Uint8Array()));
        assert.equal(answer.headers[":status"], 200);
        assert.equal(answer.endedWithHeaders, true);
        assert.equal(answer.headers["grpc-status"], String(Code.PermissionDenied));
        assert.equal(answer.headers["grpc-message"], "refused at once");
        assert.equal(answer.data.length, 0);
      });

      it("sends a message as headers, data, then trailers with grpc-status 0", async () => {
        const answer = await rawRequest(server.socketPath, { ":path": `${PATH}/Unary` }, frame(toBinary(BytesValueSchema, create(BytesValueSchema, { value: new Uint8Array([9]) }))));
        assert.equal(answer.endedWithHeaders, false);
        assert.match(String(answer.headers["content-type"]), /^application\/grpc/);
        assert.equal(answer.trailers?.["grpc-status"], "0");
        sameBytes([fromBinary(BytesValueSchema, answer.data.subarray(5)).value], [new Uint8Array([9])]);
      });

      it("ends the call at grpc-timeout with DEADLINE_EXCEEDED by itself, and the handler sees DEADLINE_EXCEEDED", async () => {
        const id = nextId();
        const started = Date.now();
        const answer = await rawRequest(server.socketPath, { ":path": `${PATH}/Unary`, "grpc-timeout": "200m", "x-case": "wait", "x-id": id }, frame(new Uint8Array()));
        const status = answer.trailers?.["grpc-status"] ?? answer.headers["grpc-status"];
        assert.equal(status, String(Code.DeadlineExceeded));
        assert.ok(Date.now() - started < 3000);
        assert.equal(await observed.wait(`${id}:aborted`), Code.DeadlineExceeded);
      });

      it("sees RST_STREAM as cancellation: the handler's signal aborts", async () => {
        const id = nextId();
        void rawRequest(server.socketPath, { ":path": `${PATH}/Unary`, "x-case": "wait", "x-id": id }, frame(new Uint8Array()), 100);
        await observed.wait(`${id}:aborted`);
      });

      it("answers unsupported compression with UNIMPLEMENTED", async () => {
        const answer = await rawRequest(server.socketPath, { ":path": `${PATH}/Unary`, "grpc-encoding": "snappy" }, frame(new Uint8Array()));
        assert.equal(answer.headers["grpc-status"] ?? answer.trailers?.["grpc-status"], String(Code.Unimplemented));
      });

      it("refuses gRPC with a JSON codec with HTTP 415: components speak protobuf only", async () => {
        const answer = await rawRequest(server.socketPath, { ":path": `${PATH}/Unary`, "content-type": "application/grpc+json" }, frame(new TextEncoder().encode("{}")));
        assert.equal(answer.headers[":status"], 415);
      });

      it("reassembles a message whose frame arrives one byte at a time", async () => {
        const body = frame(toBinary(BytesValueSchema, create(BytesValueSchema, { value: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) })));
        const answer = await new Promise<RawAnswer>((resolve, reject) => {
          const session = http2.connect("http://localhost", { createConnection: () => connect(server.socketPath) });
          session.on("error", reject);
          const stream = session.request({ ":method": "POST", ":path": `${PATH}/Unary`, "content-type": "application/grpc" });
          const chunks: Buffer[] = [];
          let result: Partial<RawAnswer> = {};
          stream.on("response", (headers) => (result = { headers }));
          stream.on("data", (chunk: Buffer) => chunks.push(chunk));
          stream.on("trailers", (trailers: http2.IncomingHttpHeaders) => (result.trailers = trailers));
          stream.on("close", () => {
            session.close();
            resolve({ ...(result as RawAnswer), data: Buffer.concat(chunks) });
          });
          let offset = 0;
          const next = () => {
            if (offset === body.length) return void stream.end();
            stream.write(body.subarray(offset, ++offset));
            setTimeout(next, 1);
          };
          next();
        });
        assert.equal(answer.trailers?.["grpc-status"], "0");
        sameBytes([fromBinary(BytesValueSchema, answer.data.subarray(5)).value], [new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])]);
      });
    });
  });

describe("interceptors, on both sides", () => {
    for (const clientKind of CLIENTS) {
      it(`${clientKind} client -> server: both sides' interceptors run, headers pass`, async () => {
        const seenByServer: string[] = [];
        const server = await serve({
          interceptors: [
            (next) => async (request) => {
              seenByServer.push(`${request.method.name}:${request.header.get("x-from-client-interceptor") ?? ""}`);
              const response = await next(request);
              response.header.set("x-from-server-interceptor", "yes");
              return response;
            },
          ],
        });
        const connection = dialWith(clientKind, server.socketPath, {
          interceptors: [
            (next) => async (request) => {
              request.header.set("x-from-client-interceptor", "set");
              return next(request);
            },
          ],
        });
        try {
          const client = connection.client(ConformanceService) as unknown as ConformanceClient;
          let header: Headers | undefined;
          const answer = await client.unary({}, { headers: { "x-case": "interceptor" }, onHeader: (h) => (header = h) });
          assert.equal(new TextDecoder().decode(answer.value), "set");
          assert.equal(header?.get("x-from-server-interceptor"), "yes");
          assert.deepEqual((await drain(client.serverStream({ value: new Uint8Array([2]) }))).values.length, 2);
          sameBytes((await drain(client.bidi(messages(new Uint8Array([1]))))).values, [new Uint8Array([1])]);
          assert.deepEqual(seenByServer, ["Unary:set", "ServerStream:set", "Bidi:set"]);
        } finally {
          connection.close();
          await server.shutdown();
        }
      });
    }
});

describe("backpressure (the SDK on both sides)", () => {
  it("a client that stops reading a stream stops the server's handler", async () => {
    const server = await serve();
    const connection = dialSocket(server.socketPath);
    try {
      const client = connection.client(ConformanceService) as unknown as ConformanceClient;
      const abort = new AbortController();
      const iterator = client.serverStream({}, { signal: abort.signal, headers: { "x-case": "flood" } })[Symbol.asyncIterator]();
      observed.produced = 0;
      const first = await iterator.next();
      assert.ok(first.done !== true, "a first message");
      assert.equal(first.value.value.length, 64 * 1024);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const producedWhileStalled = observed.produced;
      // Flow-control windows (64 KiB per stream by default) and the queues on both ends hold a bounded number.
      assert.ok(producedWhileStalled < 128, `the handler produced ${producedWhileStalled} messages of 64 KiB while the client read 1`);
      for (let i = 0; i < 200; i++) await iterator.next();
      assert.ok(observed.produced > producedWhileStalled, "reading again lets the handler go on");
      abort.abort();
    } finally {
      connection.close();
      await server.shutdown();
    }
  });
});

/** Connections the tests below open, closed after each block. */
const opened: Connection[] = [];
function dialed(socketPath: string, options: Parameters<typeof dialSocket>[1] = {}): Connection {
  const connection = dialSocket(socketPath, options);
  opened.push(connection);
  return connection;
}

describe("failure paths", () => {
  let server: ComponentServer;
  before(async () => {
    server = await serve();
  });
  after(async () => {
    opened.splice(0).forEach((c) => c.close());
    await server?.shutdown();
  });

  it("a client that resets a client stream mid-upload (RST_STREAM alone): the handler's read fails with CANCELED", async () => {
    const id = nextId();
    const one = frame(toBinary(BytesValueSchema, create(BytesValueSchema, { value: new Uint8Array([1]) })));
    const reset = new AbortController();
    await new Promise<void>((resolve, reject) => {
      const session = http2.connect("http://localhost", { createConnection: () => connect(server.socketPath) });
      session.on("error", reject);
      const headers = { ":method": "POST", ":path": `${PATH}/ClientStream`, "content-type": "application/grpc", te: "trailers", "x-case": "watch-input", "x-id": id };
      const stream = session.request(headers, { signal: reset.signal });
      stream.on("error", () => {});
      stream.write(Buffer.concat([one, one]), () => setTimeout(() => reset.abort(), 50));
      stream.on("close", () => {
        session.close();
        resolve();
      });
    });
    assert.equal(await observed.wait(`${id}:input`), Code.Canceled);
  });

  it("an SDK client that cancels mid-upload resets the stream without ending the upload: the handler never reads a clean end", async () => {
    const id = nextId();
    const cancel = new AbortController();
    const client = dialed(server.socketPath, { retry: false }).client(ConformanceService) as unknown as ConformanceClient;
    async function* twoThenCancel(): AsyncGenerator<Bytes> {
      yield { value: new Uint8Array([1]) };
      yield { value: new Uint8Array([2]) };
      setTimeout(() => cancel.abort(), 50);
      await new Promise(() => {});
    }
    const call = client.clientStream(twoThenCancel(), { signal: cancel.signal, headers: { "x-case": "watch-input", "x-id": id } });
    assert.equal((await rejection(call)).code, Code.Canceled);
    assert.equal(await observed.wait(`${id}:input`), Code.Canceled);
  });

  it("the same header in response header and trailer of a trailers-only error: the client gets the error, not a hang", async () => {
    const client = dialed(server.socketPath, { retry: false }).client(ConformanceService) as unknown as ConformanceClient;
    let trailer: Headers | undefined;
    const error = await rejection(client.unary({}, { timeoutMs: 5000, headers: { "x-case": "same-header-twice" }, onTrailer: (t) => (trailer = t) }));
    assert.equal(error.code, Code.FailedPrecondition, error.message);
    assert.equal(error.metadata.get("etag") ?? trailer?.get("etag"), "one, two");
  });

  it("deadlines longer than a timer can wait (~24.8 days) do not fire at once, on the client or the server", async () => {
    const client = dialed(server.socketPath, { retry: false }).client(ConformanceService) as unknown as ConformanceClient;
    const month = 30 * 24 * 3600 * 1000;
    sameBytes([(await client.unary({ value: new Uint8Array([5]) }, { timeoutMs: month, headers: { "x-case": "slow" } })).value], [new Uint8Array([5])]);
    const answer = await rawRequest(server.socketPath, { ":path": `${PATH}/Unary`, "grpc-timeout": "2592000S", "x-case": "slow" }, frame(new Uint8Array()));
    assert.equal(answer.trailers?.["grpc-status"], "0");
  });

  it("client interceptors see the deadline: their request's signal aborts, and time they spend counts", async () => {
    let aborted: Code | undefined;
    const connection = dialed(server.socketPath, {
      retry: false,
      interceptors: [
        (next) => async (request) => {
          request.signal.addEventListener("abort", () => (aborted = ConnectError.from(request.signal.reason).code));
          await new Promise((resolve) => setTimeout(resolve, 300));
          return next(request);
        },
      ],
    });
    const client = connection.client(ConformanceService) as unknown as ConformanceClient;
    const started = Date.now();
    const error = await rejection(client.unary({}, { timeoutMs: 150 }));
    assert.equal(error.code, Code.DeadlineExceeded, error.message);
    assert.equal(aborted, Code.DeadlineExceeded);
    assert.ok(Date.now() - started < 1000);
  });

  it("a trailers-only error of a server stream rejects next() in a client interceptor, as in connect", async () => {
    const seen: (Code | "resolved")[] = [];
    const connection = dialed(server.socketPath, {
      retry: false,
      interceptors: [
        (next) => async (request) => {
          try {
            const response = await next(request);
            seen.push("resolved");
            return response;
          } catch (error) {
            seen.push(ConnectError.from(error).code);
            throw error;
          }
        },
      ],
    });
    const client = connection.client(ConformanceService) as unknown as ConformanceClient;
    assert.equal((await drain(client.serverStream({}, { headers: { "x-case": "fail-now" } }))).error?.code, Code.PermissionDenied);
    assert.deepEqual(seen, [Code.PermissionDenied]);
    sameBytes((await drain(client.serverStream({ value: new Uint8Array([2]) }))).values, [new Uint8Array([0]), new Uint8Array([1])]);
    assert.deepEqual(seen, [Code.PermissionDenied, "resolved"]);
  });
});

describe("the moby client when the server breaks off (a raw node:http2 server)", () => {
  let socketPath: string;
  let raw: http2.Http2Server;
  let refusals = 0;
  const sessions = new Set<http2.ServerHttp2Session>();
  before(async () => {
    socketPath = join(scratch.dir, `breaking-${++ids}.sock`);
    raw = http2.createServer();
    raw.on("session", (session) => {
      sessions.add(session);
      session.on("close", () => sessions.delete(session));
    });
    raw.on("stream", (stream, headers) => {
      stream.on("error", () => {});
      const answer = () => {
        stream.respond({ ":status": 200, "content-type": "application/grpc" });
        stream.write(frame(toBinary(BytesValueSchema, create(BytesValueSchema, { value: new Uint8Array([1]) }))));
      };
      switch (headers["x-break"]) {
        case "drop-before":
          return stream.session!.destroy();
        case "drop-after":
          answer();
          return setTimeout(() => stream.session?.destroy(), 20);
        case "cancel":
          return stream.close(http2.constants.NGHTTP2_CANCEL);
        case "calm":
          return stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
        case "no-trailers":
          answer();
          return stream.end();
        case "refuse-once":
          if (refusals++ === 0) return stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
          stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
          stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
          return stream.end(frame(toBinary(BytesValueSchema, create(BytesValueSchema, { value: new Uint8Array([2]) }))));
      }
    });
    await new Promise<void>((resolve) => raw.listen(socketPath, resolve));
  });
  after(() => {
    opened.splice(0).forEach((c) => c.close());
    for (const session of sessions) session.destroy();
    raw?.close();
  });

  it("a connection lost before or after the response headers is UNAVAILABLE; a reset has its code; no trailers is INTERNAL", async () => {
    const client = dialed(socketPath, { retry: false }).client(ConformanceService) as unknown as ConformanceClient;
    const codeOf = async (mode: string) => (await rejection(client.unary({}, { headers: { "x-break": mode } }))).code;
    assert.equal(await codeOf("drop-before"), Code.Unavailable);
    assert.equal(await codeOf("drop-after"), Code.Unavailable);
    assert.equal(await codeOf("cancel"), Code.Canceled);
    assert.equal(await codeOf("calm"), Code.ResourceExhausted);
    assert.equal(await codeOf("no-trailers"), Code.Internal);
    assert.equal((await drain(client.serverStream({}, { headers: { "x-break": "drop-after" } }))).error?.code, Code.Unavailable);
  });

  it("retries a call the server refused unprocessed (REFUSED_STREAM), even one that is not idempotent", async () => {
    const client = dialed(socketPath).client(ConformanceService) as unknown as ConformanceClient;
    sameBytes([(await client.unary({}, { headers: { "x-break": "refuse-once" } })).value], [new Uint8Array([2])]);
    assert.equal(refusals, 2);
  });
});

// ---------------------------------------------------------------------------
// gzip: grpc-encoding, grpc-accept-encoding and the per-message flag.

/** A compressible payload of size bytes: text that repeats. */
function compressible(size: number): Uint8Array {
  return new Uint8Array(Buffer.from("container-store ".repeat(Math.ceil(size / 16)).slice(0, size)));
}

/** The grpc-js method definitions of the conformance service, BytesValue both ways. */
const GRPC_JS_DEFINITION: grpc.ServiceDefinition = Object.fromEntries(
  (
    [
      ["Unary", false, false],
      ["ServerStream", false, true],
      ["ClientStream", true, false],
      ["Bidi", true, true],
    ] as const
  ).map(([name, requestStream, responseStream]) => [
    name,
    {
      path: `${PATH}/${name}`,
      requestStream,
      responseStream,
      requestSerialize: serializeBytes,
      requestDeserialize: deserializeBytes,
      responseSerialize: serializeBytes,
      responseDeserialize: deserializeBytes,
    },
  ]),
);

/** Every message of a grpc-js readable stream. */
function grpcJsCollect(stream: grpc.ClientReadableStream<Uint8Array> | grpc.ClientDuplexStream<Uint8Array, Uint8Array>): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const items: Uint8Array[] = [];
    stream.on("data", (item: Uint8Array) => items.push(item));
    stream.on("error", reject);
    stream.on("end", () => resolve(items));
  });
}

describe("gzip", () => {
  const connections: Connection[] = [];
  /** Dials socketPath, closed after the block. */
  const dialGzip = (socketPath: string, options: Parameters<typeof dialSocket>[1]) => {
    const connection = dialSocket(socketPath, options);
    connections.push(connection);
    return connection;
  };
  const big = compressible(64 * 1024);
  const small = compressible(100);
  let server: ComponentServer;

  before(async () => {
    server = await serve({ compression: { minBytes: 1024 } });
  });
  after(async () => {
    connections.forEach((c) => c.close());
    await server?.shutdown();
  });

  it("answers a client that accepts gzip with gzip for a message past minBytes, flagged per message", async () => {
    const request = (value: Uint8Array, accept?: string) =>
      rawRequest(server.socketPath, { ":path": `${PATH}/Unary`, ...(accept === undefined ? {} : { "grpc-accept-encoding": accept }) }, frame(toBinary(BytesValueSchema, create(BytesValueSchema, { value }))));
    const compressed = await request(big, "identity,deflate,gzip");
    assert.equal(compressed.headers["grpc-encoding"], "gzip");
    assert.equal(compressed.data[0], 1, "the compressed flag");
    assert.ok(compressed.data.length < big.length / 10, `${compressed.data.length} bytes on the wire for ${big.length}`);
    sameBytes([fromBinary(BytesValueSchema, gunzipSync(compressed.data.subarray(5))).value], [big]);
    // Not accepted, or below minBytes: sent as it is.
    for (const answer of [await request(big), await request(big, "identity,deflate"), await request(small, "gzip")]) {
      assert.equal(answer.headers["grpc-encoding"], undefined);
      assert.equal(answer.data[0], 0);
    }
  });

  it("reads a gzip request; refuses an unknown encoding with UNIMPLEMENTED and what it supports, and a compressed flag without grpc-encoding", async () => {
    const message = toBinary(BytesValueSchema, create(BytesValueSchema, { value: big }));
    const body = Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), gzipSync(message)]);
    body.writeUInt32BE(body.length - 5, 1);
    const answer = await rawRequest(server.socketPath, { ":path": `${PATH}/Unary`, "grpc-encoding": "gzip" }, body);
    assert.equal(answer.trailers?.["grpc-status"], "0");
    sameBytes([fromBinary(BytesValueSchema, answer.data.subarray(5)).value], [big]);
    const unknown = await rawRequest(server.socketPath, { ":path": `${PATH}/Unary`, "grpc-encoding": "snappy" }, frame(new Uint8Array()));
    assert.equal(unknown.headers["grpc-status"], String(Code.Unimplemented));
    assert.equal(unknown.headers["grpc-accept-encoding"], "gzip,identity");
    const unflagged = await rawRequest(server.socketPath, { ":path": `${PATH}/Unary` }, body);
    assert.equal(unflagged.headers["grpc-status"] ?? unflagged.trailers?.["grpc-status"], String(Code.Internal));
  });

  it("refuses a small compressed bomb with RESOURCE_EXHAUSTED, without inflating it, and still serves", async () => {
    // 64 MiB of zeros as one BytesValue compress to ~64 KiB; the limit is 4 MiB.
    const inflated = Buffer.alloc(64 * 1024 * 1024);
    inflated[0] = 0x0a;
    const bomb = gzipSync(inflated);
    assert.ok(bomb.length < 128 * 1024);
    const body = Buffer.concat([Buffer.from([1, 0, 0, 0, 0]), bomb]);
    body.writeUInt32BE(bomb.length, 1);
    const before = process.memoryUsage().arrayBuffers;
    const answer = await rawRequest(server.socketPath, { ":path": `${PATH}/Unary`, "grpc-encoding": "gzip" }, body);
    assert.equal(answer.headers["grpc-status"] ?? answer.trailers?.["grpc-status"], String(Code.ResourceExhausted));
    assert.match(decodeURIComponent(String(answer.headers["grpc-message"] ?? answer.trailers?.["grpc-message"])), /inflates past the configured readMaxBytes 4194304/);
    assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 1024 * 1024, "the bomb was not inflated whole");
    const client = dialGzip(server.socketPath, {}).client(ConformanceService) as unknown as ConformanceClient;
    sameBytes([(await client.unary({ value: small })).value], [small]);
  });

  it("@grpc/grpc-js with gzip on -> SDK server: unary, server, client and bidi streams, compressed both ways", async () => {
    const client = new grpc.Client(`unix:${server.socketPath}`, grpc.credentials.createInsecure(), { "grpc.default_compression_algorithm": 2 });
    try {
      const { error, value } = await grpcJsUnary(client, "Unary", big);
      assert.equal(error, null);
      sameBytes([value!], [big]);
      const options = { deadline: Date.now() + 10_000 };
      const served = await grpcJsCollect(client.makeServerStreamRequest(`${PATH}/ServerStream`, serializeBytes, deserializeBytes, new Uint8Array([3]), new grpc.Metadata(), options));
      assert.equal(served.length, 3);
      const collected = await new Promise<Uint8Array>((resolve, reject) => {
        const call = client.makeClientStreamRequest(`${PATH}/ClientStream`, serializeBytes, deserializeBytes, new grpc.Metadata(), options, (err, answer) => (err ? reject(err) : resolve(answer!)));
        call.write(big);
        call.write(small);
        call.end();
      });
      sameBytes([collected], [Buffer.concat([big, small])]);
      const bidi = client.makeBidiStreamRequest(`${PATH}/Bidi`, serializeBytes, deserializeBytes, new grpc.Metadata(), options);
      bidi.write(big);
      bidi.write(small);
      bidi.end();
      sameBytes(await grpcJsCollect(bidi), [big, small]);
    } finally {
      client.close();
    }
  });

  it("SDK client with gzip on -> @grpc/grpc-js server: unary and bidi, requests compressed", async () => {
    const socketPath = join(scratch.dir, `grpc-js-gzip-${++ids}.sock`);
    const grpcServer = new grpc.Server();
    grpcServer.addService(GRPC_JS_DEFINITION, {
      Unary: (call: grpc.ServerUnaryCall<Uint8Array, Uint8Array>, callback: grpc.sendUnaryData<Uint8Array>) => callback(null, call.request),
      ServerStream: (call: grpc.ServerWritableStream<Uint8Array, Uint8Array>) => call.end(),
      ClientStream: (call: grpc.ServerReadableStream<Uint8Array, Uint8Array>, callback: grpc.sendUnaryData<Uint8Array>) => {
        const chunks: Uint8Array[] = [];
        call.on("data", (chunk: Uint8Array) => chunks.push(chunk));
        call.on("end", () => callback(null, Buffer.concat(chunks)));
      },
      Bidi: (call: grpc.ServerDuplexStream<Uint8Array, Uint8Array>) => {
        call.on("data", (chunk: Uint8Array) => call.write(chunk));
        call.on("end", () => call.end());
      },
    });
    await new Promise<void>((resolve, reject) => grpcServer.bindAsync(`unix:${socketPath}`, grpc.ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())));
    try {
      const client = dialGzip(socketPath, { retry: false, compression: { minBytes: 0 } }).client(ConformanceService) as unknown as ConformanceClient;
      sameBytes([(await client.unary({ value: big })).value], [big]);
      sameBytes([(await client.clientStream(messages(big, small))).value], [Buffer.concat([big, small])]);
      sameBytes((await drain(client.bidi(messages(big, small)))).values, [big, small]);
    } finally {
      grpcServer.forceShutdown();
    }
  });

  it("MessageCompression: a client and a handler choose compression message by message and see each message's flag", async () => {
    // Small messages: by minBytes alone, neither side would compress any of them.
    const client = dialGzip(server.socketPath, { retry: false }).client(ConformanceService) as unknown as ConformanceClient;
    const header = { "x-case": "compression-echo" };
    for (const send of [true, false]) {
      const compression = new MessageCompression();
      compression.send = send;
      const answer = await client.unary({ value: small }, { headers: header, contextValues: createContextValues().set(MESSAGE_COMPRESSION, compression) });
      assert.deepEqual(plain(answer.value), Uint8Array.of(send ? 1 : 0), `unary: the server saw the request ${send ? "uncompressed" : "compressed"}`);
      assert.equal(compression.received, send, "unary: the answer's flag");
    }
    const compression = new MessageCompression();
    const pattern = [true, false, false, true];
    async function* requests(): AsyncGenerator<Bytes> {
      for (const send of pattern) {
        compression.send = send;
        yield { value: small };
      }
    }
    const seen: { server: number; client: boolean }[] = [];
    for await (const answer of client.bidi(requests(), { headers: header, contextValues: createContextValues().set(MESSAGE_COMPRESSION, compression) })) {
      seen.push({ server: answer.value[0]!, client: compression.received });
    }
    assert.deepEqual(
      seen,
      pattern.map((send) => ({ server: send ? 1 : 0, client: send })),
    );
  });

  it("SDK client -> SDK server, gzip both ways; the request's flag on the wire is 1 past minBytes, 0 below", async () => {
    const client = dialGzip(server.socketPath, { compression: {} }).client(ConformanceService) as unknown as ConformanceClient;
    sameBytes([(await client.unary({ value: big })).value], [big]);
    sameBytes((await drain(client.bidi(messages(big, small, big)))).values, [big, small, big]);
    // What goes on the wire: a raw server records each request's flags and grpc-encoding.
    const seen: { encoding: unknown; flags: number[] }[] = [];
    const socketPath = join(scratch.dir, `raw-gzip-${++ids}.sock`);
    const raw = http2.createServer();
    raw.on("stream", (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const body = Buffer.concat(chunks);
        const flags: number[] = [];
        for (let offset = 0; offset < body.length; offset += 5 + body.readUInt32BE(offset + 1)) flags.push(body[offset]!);
        seen.push({ encoding: headers["grpc-encoding"], flags });
        stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "0" }, { endStream: true });
      });
    });
    await new Promise<void>((resolve) => raw.listen(socketPath, resolve));
    const rawConnection = dialSocket(socketPath, { retry: false, compression: {} });
    try {
      await drain((rawConnection.client(ConformanceService) as unknown as ConformanceClient).bidi(messages(big, small)));
      assert.deepEqual(seen, [{ encoding: "gzip", flags: [1, 0] }]);
    } finally {
      rawConnection.close();
      raw.close();
    }
  });
});
