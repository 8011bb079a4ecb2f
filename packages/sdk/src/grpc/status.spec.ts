import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { addStatus, encodeGrpcMessage, encodeTimeout, errorFromNode, errorFromStatus, isGrpcProto, joinedMetadata, parseTimeout } from "./status.js";

describe("grpc-timeout", () => {
  it("encodes a deadline in at most 8 digits", () => {
    assert.equal(encodeTimeout(250), "250m");
    assert.equal(encodeTimeout(0.2), "1m");
    assert.equal(encodeTimeout(99_999_999), "99999999m");
    assert.equal(encodeTimeout(100_000_000), "100000S");
  });

  it("parses every unit, and refuses malformed values with INVALID_ARGUMENT", () => {
    assert.equal(parseTimeout(undefined), undefined);
    assert.equal(parseTimeout("2H"), 7_200_000);
    assert.equal(parseTimeout("3M"), 180_000);
    assert.equal(parseTimeout("4S"), 4000);
    assert.equal(parseTimeout("5m"), 5);
    assert.equal(parseTimeout("6000u"), 6);
    assert.equal(parseTimeout("7000000n"), 7);
    for (const bad of ["", "m", "10", "123456789m", "1.5S", "-1m", "5x"]) {
      const error = parseTimeout(bad);
      assert.ok(error instanceof ConnectError && error.code === Code.InvalidArgument, bad);
    }
  });
});

describe("content types", () => {
  it("accepts gRPC with the protobuf codec only", () => {
    for (const ok of ["application/grpc", "application/grpc+proto", "application/grpc;charset=utf-8", "application/grpc+proto; x=y"]) assert.ok(isGrpcProto(ok), ok);
    for (const bad of [undefined, "application/json", "application/grpc+json", "application/grpc-web", "application/grpcx"]) assert.ok(!isGrpcProto(bad), String(bad));
  });
});

describe("status trailers", () => {
  it("writes OK as grpc-status 0", () => {
    assert.deepEqual(addStatus({}, undefined), { "grpc-status": "0" });
    assert.equal(errorFromStatus({ "grpc-status": "0" }, () => new Headers()), undefined);
  });

  it("round-trips code, message in the spec's encoding, details and metadata", () => {
    const error = new ConnectError("100% bad: naïve\nline", Code.Aborted, { "x-extra": "1" }, [{ desc: StringValueSchema, value: { value: "why" } }]);
    const trailers = addStatus({}, error);
    assert.equal(trailers["grpc-status"], "10");
    assert.equal(trailers["grpc-message"], "100%25 bad: na%C3%AFve%0Aline");
    assert.equal(trailers["x-extra"], "1");
    assert.equal(typeof trailers["grpc-status-details-bin"], "string");
    const incoming = trailers as Record<string, string>;
    const back = errorFromStatus(incoming, () => joinedMetadata({}, incoming))!;
    assert.equal(back.code, Code.Aborted);
    assert.equal(back.rawMessage, "100% bad: naïve\nline");
    assert.deepEqual(back.findDetails(StringValueSchema).map((d) => d.value), ["why"]);
    assert.equal(back.metadata.get("x-extra"), "1");
  });

  it("keeps a grpc-message that is not valid percent-encoding as it is", () => {
    assert.equal(errorFromStatus({ "grpc-status": "2", "grpc-message": "50%" }, () => new Headers())?.rawMessage, "50%");
  });

  it("makes a missing or invalid grpc-status INTERNAL", () => {
    assert.equal(errorFromStatus({}, () => new Headers())?.code, Code.Internal);
    assert.equal(errorFromStatus({ "grpc-status": "99" }, () => new Headers())?.code, Code.Internal);
  });
});

describe("errorFromNode", () => {
  it("makes a socket nothing listens on UNAVAILABLE, naming it, with the errno error in the cause chain", () => {
    const errno = Object.assign(new Error("connect ENOENT /run/x.sock"), { code: "ENOENT" });
    const cancel = Object.assign(new Error("The pending stream has been canceled", { cause: errno }), { code: "ERR_HTTP2_STREAM_CANCEL" });
    const error = errorFromNode(cancel, "/run/x.sock");
    assert.equal(error.code, Code.Unavailable);
    assert.match(error.rawMessage, /no component is serving on \/run\/x.sock \(ENOENT\)/);
    assert.equal((error.cause as Error).cause, errno);
  });

  it("makes a broken connection UNAVAILABLE and anything else INTERNAL", () => {
    assert.equal(errorFromNode(Object.assign(new Error("reset"), { code: "ECONNRESET" }), "s").code, Code.Unavailable);
    assert.equal(errorFromNode(new Error("odd"), "s").code, Code.Internal);
  });
});

describe("encodeGrpcMessage", () => {
  it("keeps printable ASCII, escapes % and everything else as UTF-8 bytes", () => {
    assert.equal(encodeGrpcMessage("name: required, a/b?"), "name: required, a/b?");
    assert.equal(encodeGrpcMessage("100%"), "100%25");
    assert.equal(encodeGrpcMessage("line\nbreak"), "line%0Abreak");
    assert.equal(encodeGrpcMessage("café"), "caf%C3%A9");
  });

  it("escapes spaces at either end, which an HTTP/2 field value may not have", () => {
    assert.equal(encodeGrpcMessage("  etcd: down "), "%20%20etcd: down%20");
    assert.equal(decodeURIComponent(encodeGrpcMessage(" x ")), " x ");
  });

  it("decodes back with both decodeURI and decodeURIComponent", () => {
    const message = "container.labels[\"a b\"]: 100% too long, über";
    assert.equal(decodeURI(encodeGrpcMessage(message)), message);
    assert.equal(decodeURIComponent(encodeGrpcMessage(message)), message);
  });
});
