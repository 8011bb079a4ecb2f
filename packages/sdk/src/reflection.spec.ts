import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ComponentService } from "@moby-core/component-api/v1";
import { ServerReflection, ServerReflectionRequestSchema } from "@moby-core/grpc-reflection-api/v1";
import type { ServerReflectionRequest } from "@moby-core/grpc-reflection-api/v1";
import { DescriptorIndex, answerReflection } from "./reflection.js";

const index = new DescriptorIndex([ComponentService, ServerReflection]);
const ask = (messageRequest: ServerReflectionRequest["messageRequest"]) =>
  answerReflection(index, create(ServerReflectionRequestSchema, { host: "localhost", messageRequest }));

/** The file names in a file descriptor response, in order. */
function fileNames(response: ReturnType<typeof ask>): string[] {
  assert.equal(response.messageResponse.case, "fileDescriptorResponse");
  return response.messageResponse.value!.fileDescriptorProto.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).name);
}

describe("server reflection", () => {
  it("lists the served services", () => {
    const response = ask({ case: "listServices", value: "" });
    assert.equal(response.messageResponse.case, "listServicesResponse");
    assert.deepEqual(
      response.messageResponse.value.service.map((s) => s.name),
      ["grpc.reflection.v1.ServerReflection", "moby.component.v1.ComponentService"],
    );
  });

  it("returns the file of a symbol first, then every file it imports", () => {
    const names = fileNames(ask({ case: "fileContainingSymbol", value: "moby.component.v1.ComponentInfo" }));
    assert.equal(names[0], "moby/component/v1/component.proto");
    assert.deepEqual(names.slice(1).sort(), ["google/protobuf/struct.proto", "google/protobuf/timestamp.proto"]);
  });

  it("finds services, methods, enums and files by name", () => {
    assert.equal(fileNames(ask({ case: "fileContainingSymbol", value: "moby.component.v1.ComponentService.GetInfo" }))[0], "moby/component/v1/component.proto");
    assert.equal(fileNames(ask({ case: "fileContainingSymbol", value: "moby.component.v1.Health" }))[0], "moby/component/v1/component.proto");
    assert.equal(fileNames(ask({ case: "fileByFilename", value: "google/protobuf/timestamp.proto" }))[0], "google/protobuf/timestamp.proto");
  });

  it("answers NOT_FOUND for an unknown symbol or file", () => {
    for (const response of [
      ask({ case: "fileContainingSymbol", value: "no.such.Type" }),
      ask({ case: "fileByFilename", value: "no/such.proto" }),
      ask({ case: "allExtensionNumbersOfType", value: "no.such.Type" }),
    ]) {
      assert.equal(response.messageResponse.case, "errorResponse");
      assert.equal(response.messageResponse.value.errorCode, 5);
    }
  });

  it("reports no extensions for a known type, and echoes the request", () => {
    const response = ask({ case: "allExtensionNumbersOfType", value: "moby.component.v1.ComponentInfo" });
    assert.equal(response.messageResponse.case, "allExtensionNumbersResponse");
    assert.deepEqual(response.messageResponse.value.extensionNumber, []);
    assert.equal(response.validHost, "localhost");
    assert.equal(response.originalRequest?.messageRequest.case, "allExtensionNumbersOfType");
  });
});
