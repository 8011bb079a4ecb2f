/**
 * gRPC's interop client cases (grpc/grpc doc/interop-test-descriptions.md),
 * written with the SDK's client: each case makes the calls the spec
 * describes against a grpc.testing.TestService and throws (an
 * AssertionError naming what differs) when the server or the SDK does not
 * behave as the spec says. The cases that need no credentials are here.
 */
import assert from "node:assert/strict";
import { createContextValues } from "@connectrpc/connect";
import type { CallOptions } from "@connectrpc/connect";
import { Code, ConnectError, MESSAGE_COMPRESSION, MessageCompression } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ECHO_INITIAL, ECHO_TRAILING_BIN } from "./grpc-testing.js";
import type {
  GrpcTesting,
  SimpleRequest,
  SimpleResponse,
  StreamingInputCallRequest,
  StreamingInputCallResponse,
  StreamingOutputCallRequest,
  StreamingOutputCallResponse,
} from "./grpc-testing.js";

/** grpc.testing.TestService's client, typed by the shapes the cases use. */
interface TestServiceClient {
  emptyCall(request: object, options?: CallOptions): Promise<object>;
  unaryCall(request: SimpleRequest, options?: CallOptions): Promise<SimpleResponse>;
  streamingOutputCall(request: StreamingOutputCallRequest, options?: CallOptions): AsyncIterable<StreamingOutputCallResponse>;
  streamingInputCall(requests: AsyncIterable<StreamingInputCallRequest>, options?: CallOptions): Promise<StreamingInputCallResponse>;
  fullDuplexCall(requests: AsyncIterable<StreamingOutputCallRequest>, options?: CallOptions): AsyncIterable<StreamingOutputCallResponse>;
  unimplementedCall(request: object, options?: CallOptions): Promise<object>;
}

/** What a case runs against: a connection to a TestService, and the interop descriptors. */
export interface InteropTarget {
  connection: Connection;
  testing: GrpcTesting;
}

/** A case: resolves when the server behaved as the spec says. */
export type InteropCase = (target: InteropTarget) => Promise<void>;

/** The TestService client of a target. */
function testService(target: InteropTarget): TestServiceClient {
  return target.connection.client(target.testing.TestService) as unknown as TestServiceClient;
}

/** size zero bytes: every payload of the interop cases is zero-filled. */
function zeros(size: number): { type: number; body: Uint8Array } {
  return { type: 0, body: new Uint8Array(size) };
}

/** Asserts that a payload is size zero bytes of type COMPRESSABLE. */
function assertZeros(payload: { type?: number; body: Uint8Array } | undefined, size: number, what: string): void {
  assert.ok(payload !== undefined, `${what}: no payload`);
  assert.equal(payload.type ?? 0, 0, `${what}: payload type`);
  assert.equal(payload.body.byteLength, size, `${what}: payload size`);
  assert.ok(
    payload.body.every((byte) => byte === 0),
    `${what}: the payload is not all zeros`,
  );
}

/** Call options whose context values carry compression. */
function withCompression(compression: MessageCompression, options: CallOptions = {}): CallOptions {
  return { ...options, contextValues: createContextValues().set(MESSAGE_COMPRESSION, compression) };
}

/** A MessageCompression that sends as send says. */
function sending(send: boolean): MessageCompression {
  const compression = new MessageCompression();
  compression.send = send;
  return compression;
}

/** Asserts that call fails with code, and with message when given. */
async function assertStatus(call: Promise<unknown>, code: Code, message?: string): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    const status = ConnectError.from(error);
    assert.equal(status.code, code, `status ${Code[status.code]} (${status.rawMessage}), expected ${Code[code]}`);
    if (message !== undefined) assert.equal(status.rawMessage, message);
    return true;
  });
}

/** Every message of a response stream. */
async function collect<T>(responses: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const response of responses) all.push(response);
  return all;
}

/** A request stream the case writes to as it goes, and ends. */
class RequestStream<T> implements AsyncIterable<T> {
  private readonly queued: T[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  /** Sends message next. */
  write(message: T): void {
    this.queued.push(message);
    this.wake?.();
  }

  /** Half-closes: no more messages. */
  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const next = this.queued.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

/** The request of large_unary and the cases built on it: 271,828 bytes in, 314,159 asked for. */
function largeRequest(extra: Partial<SimpleRequest> = {}): SimpleRequest {
  return { responseType: 0, responseSize: 314_159, payload: zeros(271_828), ...extra };
}

const CLIENT_STREAMING_SIZES = [27_182, 8, 1828, 45_904];
const SERVER_STREAMING_SIZES = [31_415, 9, 2653, 58_979];

/** The value of x-grpc-test-echo-initial the custom_metadata case sends. */
const INITIAL_VALUE = "test_initial_metadata_value";
/** The bytes of x-grpc-test-echo-trailing-bin the custom_metadata case sends. */
const TRAILING_BYTES = Buffer.from([0xab, 0xab, 0xab]);

/** The message of special_status_message: whitespace, and characters in and beyond Unicode's BMP. */
const SPECIAL_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";

/** Asserts that a call echoed the custom_metadata case's metadata: one entry in the headers, one in the trailers. */
function assertEchoed(header: Headers | undefined, trailer: Headers | undefined, what: string): void {
  assert.equal(header?.get(ECHO_INITIAL), INITIAL_VALUE, `${what}: ${ECHO_INITIAL} in the response headers`);
  const trailing = trailer?.get(ECHO_TRAILING_BIN);
  assert.ok(trailing !== null && trailing !== undefined, `${what}: no ${ECHO_TRAILING_BIN} in the trailers`);
  assert.deepEqual(Buffer.from(trailing, "base64"), TRAILING_BYTES, `${what}: ${ECHO_TRAILING_BIN} in the trailers`);
}

/**
 * What of the client compression cases a server that does not check
 * expect_compressed (grpc-go 1.33's, C-core's Ruby one) can take: the
 * requests of large_unary and client_streaming, every one gzip-compressed.
 * Not cases of the spec; named after the ones they vary.
 */
export const COMPRESSED_REQUEST_CASES: Record<string, InteropCase> = {
  async "large_unary, request gzip-compressed"(target) {
    const response = await testService(target).unaryCall(largeRequest(), withCompression(sending(true)));
    assertZeros(response.payload, 314_159, "the response");
  },

  async "client_streaming, requests gzip-compressed"(target) {
    async function* requests(): AsyncGenerator<StreamingInputCallRequest> {
      for (const size of CLIENT_STREAMING_SIZES) yield { payload: zeros(size) };
    }
    const response = await testService(target).streamingInputCall(requests(), withCompression(sending(true)));
    assert.equal(response.aggregatedPayloadSize, 74_922);
  },
};

/** The interop cases, by their names in the spec. */
export const INTEROP_CASES: Record<string, InteropCase> = {
  async empty_unary(target) {
    const response = await testService(target).emptyCall({});
    assert.equal((response as { $typeName?: string }).$typeName, "grpc.testing.Empty");
  },

  async large_unary(target) {
    const response = await testService(target).unaryCall(largeRequest());
    assertZeros(response.payload, 314_159, "the response");
  },

  async client_compressed_unary(target) {
    const client = testService(target);
    // The probe: a server that checks expect_compressed refuses an uncompressed request that claims otherwise.
    await assertStatus(client.unaryCall(largeRequest({ expectCompressed: { value: true } }), withCompression(sending(false))), Code.InvalidArgument);
    const compressed = await client.unaryCall(largeRequest({ expectCompressed: { value: true } }), withCompression(sending(true)));
    assertZeros(compressed.payload, 314_159, "the response to the compressed request");
    const plain = await client.unaryCall(largeRequest({ expectCompressed: { value: false } }), withCompression(sending(false)));
    assertZeros(plain.payload, 314_159, "the response to the uncompressed request");
  },

  async server_compressed_unary(target) {
    const client = testService(target);
    const compressed = new MessageCompression();
    const first = await client.unaryCall(largeRequest({ responseCompressed: { value: true } }), withCompression(compressed));
    assert.equal(compressed.received, true, "response_compressed true: the response arrived uncompressed");
    assertZeros(first.payload, 314_159, "the compressed response");
    const plain = new MessageCompression();
    const second = await client.unaryCall(largeRequest({ responseCompressed: { value: false } }), withCompression(plain));
    assert.equal(plain.received, false, "response_compressed false: the response arrived compressed");
    assertZeros(second.payload, 314_159, "the uncompressed response");
  },

  async client_streaming(target) {
    async function* requests(): AsyncGenerator<StreamingInputCallRequest> {
      for (const size of CLIENT_STREAMING_SIZES) yield { payload: zeros(size) };
    }
    const response = await testService(target).streamingInputCall(requests());
    assert.equal(response.aggregatedPayloadSize, 74_922);
  },

  async client_compressed_streaming(target) {
    const client = testService(target);
    async function* probe(): AsyncGenerator<StreamingInputCallRequest> {
      yield { payload: zeros(27_182), expectCompressed: { value: true } };
    }
    await assertStatus(client.streamingInputCall(probe(), withCompression(sending(false))), Code.InvalidArgument);
    const compression = sending(true);
    async function* requests(): AsyncGenerator<StreamingInputCallRequest> {
      compression.send = true;
      yield { payload: zeros(27_182), expectCompressed: { value: true } };
      compression.send = false;
      yield { payload: zeros(45_904), expectCompressed: { value: false } };
    }
    const response = await client.streamingInputCall(requests(), withCompression(compression));
    assert.equal(response.aggregatedPayloadSize, 73_086);
  },

  async server_streaming(target) {
    const responses = await collect(testService(target).streamingOutputCall({ responseType: 0, responseParameters: SERVER_STREAMING_SIZES.map((size) => ({ size })) }));
    assert.equal(responses.length, SERVER_STREAMING_SIZES.length, "the number of responses");
    responses.forEach((response, index) => assertZeros(response.payload, SERVER_STREAMING_SIZES[index]!, `response ${index + 1}`));
  },

  async server_compressed_streaming(target) {
    const compression = new MessageCompression();
    const request: StreamingOutputCallRequest = {
      responseType: 0,
      responseParameters: [
        { size: 31_415, compressed: { value: true } },
        { size: 92_653, compressed: { value: false } },
      ],
    };
    const seen: { size: number; compressed: boolean }[] = [];
    for await (const response of testService(target).streamingOutputCall(request, withCompression(compression))) {
      seen.push({ size: response.payload?.body.byteLength ?? -1, compressed: compression.received });
    }
    assert.deepEqual(seen, [
      { size: 31_415, compressed: true },
      { size: 92_653, compressed: false },
    ]);
  },

  async ping_pong(target) {
    const requests = new RequestStream<StreamingOutputCallRequest>();
    const responses = testService(target).fullDuplexCall(requests)[Symbol.asyncIterator]();
    try {
      for (let round = 0; round < CLIENT_STREAMING_SIZES.length; round++) {
        requests.write({ responseType: 0, responseParameters: [{ size: SERVER_STREAMING_SIZES[round]! }], payload: zeros(CLIENT_STREAMING_SIZES[round]!) });
        const next = await responses.next();
        assert.equal(next.done, false, `round ${round + 1}: the stream ended`);
        assertZeros((next.value as StreamingOutputCallResponse).payload, SERVER_STREAMING_SIZES[round]!, `round ${round + 1}`);
      }
      requests.end();
      assert.equal((await responses.next()).done, true, "a response after the last round");
    } finally {
      requests.end();
    }
  },

  async empty_stream(target) {
    const responses = await collect(testService(target).fullDuplexCall((async function* () {})()));
    assert.deepEqual(responses, []);
  },

  async timeout_on_sleeping_server(target) {
    const requests = new RequestStream<StreamingOutputCallRequest>();
    requests.write({ responseType: 0, responseParameters: [{ size: 31_415 }], payload: zeros(27_182) });
    try {
      await assertStatus(collect(testService(target).fullDuplexCall(requests, { timeoutMs: 1 })), Code.DeadlineExceeded);
    } finally {
      requests.end();
    }
  },

  async cancel_after_begin(target) {
    const requests = new RequestStream<StreamingInputCallRequest>();
    const controller = new AbortController();
    const call = testService(target).streamingInputCall(requests, { signal: controller.signal });
    controller.abort();
    try {
      await assertStatus(call, Code.Canceled);
    } finally {
      requests.end();
    }
  },

  async cancel_after_first_response(target) {
    const requests = new RequestStream<StreamingOutputCallRequest>();
    const controller = new AbortController();
    const responses = testService(target).fullDuplexCall(requests, { signal: controller.signal })[Symbol.asyncIterator]();
    try {
      requests.write({ responseType: 0, responseParameters: [{ size: 31_415 }], payload: zeros(27_182) });
      const first = await responses.next();
      assert.equal(first.done, false, "the stream ended before the first response");
      assertZeros((first.value as StreamingOutputCallResponse).payload, 31_415, "the first response");
      controller.abort();
      await assertStatus(responses.next(), Code.Canceled);
    } finally {
      requests.end();
    }
  },

  async custom_metadata(target) {
    const client = testService(target);
    const metadata = { [ECHO_INITIAL]: INITIAL_VALUE, [ECHO_TRAILING_BIN]: TRAILING_BYTES.toString("base64") };
    let header: Headers | undefined;
    let trailer: Headers | undefined;
    const response = await client.unaryCall(largeRequest(), { headers: metadata, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
    assertZeros(response.payload, 314_159, "the unary response");
    assertEchoed(header, trailer, "UnaryCall");

    header = undefined;
    trailer = undefined;
    async function* one(): AsyncGenerator<StreamingOutputCallRequest> {
      yield { responseType: 0, responseParameters: [{ size: 314_159 }], payload: zeros(271_828) };
    }
    const responses = await collect(client.fullDuplexCall(one(), { headers: metadata, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) }));
    assert.equal(responses.length, 1, "FullDuplexCall: the number of responses");
    assertZeros(responses[0]!.payload, 314_159, "the FullDuplexCall response");
    assertEchoed(header, trailer, "FullDuplexCall");
  },

  async status_code_and_message(target) {
    const client = testService(target);
    const responseStatus = { code: 2, message: "test status message" };
    await assertStatus(client.unaryCall({ responseStatus }), Code.Unknown, responseStatus.message);
    async function* one(): AsyncGenerator<StreamingOutputCallRequest> {
      yield { responseParameters: [], responseStatus };
    }
    await assertStatus(collect(client.fullDuplexCall(one())), Code.Unknown, responseStatus.message);
  },

  async special_status_message(target) {
    await assertStatus(testService(target).unaryCall({ responseStatus: { code: 2, message: SPECIAL_MESSAGE } }), Code.Unknown, SPECIAL_MESSAGE);
  },

  async unimplemented_method(target) {
    await assertStatus(testService(target).unimplementedCall({}), Code.Unimplemented);
  },

  async unimplemented_service(target) {
    const client = target.connection.client(target.testing.UnimplementedService) as unknown as Pick<TestServiceClient, "unimplementedCall">;
    await assertStatus(client.unimplementedCall({}), Code.Unimplemented);
  },
};
