/**
 * gRPC's interop test service, grpc.testing.TestService, as protobuf-es
 * descriptors built at test time from the .proto files Debian's grpc-proto
 * package ships (the ones every gRPC implementation's interop peers use),
 * with the shapes of the messages the interop cases exchange.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import type { DescService } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { repoRoot, run } from "./contract-copy.js";

/** Where Debian's grpc-proto package puts gRPC's .proto files. */
export const GRPC_PROTO_DIR = "/usr/share/grpc-proto";

/** The interop service's .proto, inside GRPC_PROTO_DIR. */
const TEST_PROTO = "grpc/testing/test.proto";

/** The name of the environment variable that points an interop server fixture at the descriptor image. */
export const ENV_INTEROP_IMAGE = "MOBY_TEST_INTEROP_IMAGE";

/**
 * Builds the buf image (a FileDescriptorSet) of grpc.testing's test.proto
 * and its imports into path. Throws a one-line error naming the package to
 * install when the .proto files are missing.
 */
export function buildGrpcTestingImage(path: string): void {
  if (!existsSync(join(GRPC_PROTO_DIR, TEST_PROTO))) {
    throw new Error(`${join(GRPC_PROTO_DIR, TEST_PROTO)} is missing: install Debian's grpc-proto package (apt-get install grpc-proto)`);
  }
  const buf = join(repoRoot, "node_modules/.bin/buf");
  const result = run(buf, ["build", GRPC_PROTO_DIR, "--path", join(GRPC_PROTO_DIR, TEST_PROTO), "-o", path], GRPC_PROTO_DIR);
  if (result.status !== 0) throw new Error(`buf build of ${TEST_PROTO} failed: ${result.stderr.trim()}`);
}

/** The services of grpc.testing's test.proto. */
export interface GrpcTesting {
  /** grpc.testing.TestService: the service the interop cases call. */
  TestService: DescService;
  /** grpc.testing.UnimplementedService: a service no interop server implements. */
  UnimplementedService: DescService;
}

/** The interop services, from the image buildGrpcTestingImage wrote at path. */
export function loadGrpcTesting(path: string): GrpcTesting {
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(path)));
  const service = (name: string): DescService => {
    const found = registry.getService(name);
    if (found === undefined) throw new Error(`${path}: no service ${name}`);
    return found;
  };
  return { TestService: service("grpc.testing.TestService"), UnimplementedService: service("grpc.testing.UnimplementedService") };
}

// The shapes of the messages the cases use, as protobuf-es gives them.

/** grpc.testing.BoolValue: a boolean that can be unset (grpc.testing's own, not google.protobuf's). */
export interface BoolValue {
  value: boolean;
}

/** grpc.testing.Payload: type 0 is COMPRESSABLE, the only type the cases use. */
export interface Payload {
  type?: number;
  body: Uint8Array;
}

/** grpc.testing.EchoStatus: the status a server is asked to end the call with. */
export interface EchoStatus {
  code: number;
  message: string;
}

/** grpc.testing.SimpleRequest. */
export interface SimpleRequest {
  responseType?: number;
  responseSize?: number;
  payload?: Payload;
  responseCompressed?: BoolValue;
  responseStatus?: EchoStatus;
  expectCompressed?: BoolValue;
}

/** grpc.testing.SimpleResponse. */
export interface SimpleResponse {
  payload?: Payload;
}

/** grpc.testing.StreamingInputCallRequest. */
export interface StreamingInputCallRequest {
  payload?: Payload;
  expectCompressed?: BoolValue;
}

/** grpc.testing.StreamingInputCallResponse. */
export interface StreamingInputCallResponse {
  aggregatedPayloadSize: number;
}

/** grpc.testing.ResponseParameters: one response a streaming call asks for. */
export interface ResponseParameters {
  size: number;
  intervalUs?: number;
  compressed?: BoolValue;
}

/** grpc.testing.StreamingOutputCallRequest. */
export interface StreamingOutputCallRequest {
  responseType?: number;
  responseParameters: ResponseParameters[];
  payload?: Payload;
  responseStatus?: EchoStatus;
}

/** grpc.testing.StreamingOutputCallResponse. */
export interface StreamingOutputCallResponse {
  payload?: Payload;
}

/** The metadata key a TestService echoes back in its response headers. */
export const ECHO_INITIAL = "x-grpc-test-echo-initial";
/** The metadata key (binary) a TestService echoes back in its trailers. */
export const ECHO_TRAILING_BIN = "x-grpc-test-echo-trailing-bin";
