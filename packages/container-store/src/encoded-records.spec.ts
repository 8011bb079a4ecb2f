import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ContainerSchema, GetContainerResponseSchema, ListContainersResponseSchema } from "@moby-core/container-store-api/v1";
import { withRecords } from "./encoded-records.js";

const containers = ["a", "b", "c"].map((id, i) => create(ContainerSchema, { id, labels: { n: String(i) }, image: "busybox", revision: BigInt(i + 1) }));
const records = containers.map((c) => toBinary(ContainerSchema, c));

describe("withRecords", () => {
  it("fills a repeated Container field that a client reads back as the containers, in order", () => {
    const page = withRecords(create(ListContainersResponseSchema, { nextPageToken: "t", revision: 7n }), ListContainersResponseSchema.field.containers!, records);
    const read = fromBinary(ListContainersResponseSchema, toBinary(ListContainersResponseSchema, page));
    assert.deepEqual(read.containers, containers);
    assert.equal(read.nextPageToken, "t");
    assert.equal(read.revision, 7n);
  });

  it("fills a singular Container field", () => {
    const answer = withRecords(create(GetContainerResponseSchema), GetContainerResponseSchema.field.container!, [records[1]!]);
    assert.deepEqual(fromBinary(GetContainerResponseSchema, toBinary(GetContainerResponseSchema, answer)).container, containers[1]);
  });

  it("refuses a field that is not of a message type, of another message, or a singular field given two records or already set", () => {
    assert.throws(
      () => withRecords(create(ListContainersResponseSchema), ListContainersResponseSchema.field.nextPageToken!, records),
      /next_page_token is not a length-delimited message field/,
    );
    assert.throws(() => withRecords(create(GetContainerResponseSchema), ListContainersResponseSchema.field.containers!, records), /containers is not a field of moby\.container\.store\.v1\.GetContainerResponse/);
    assert.throws(() => withRecords(create(GetContainerResponseSchema), GetContainerResponseSchema.field.container!, records), /container is singular/);
    assert.throws(
      () => withRecords(create(GetContainerResponseSchema, { container: containers[0] }), GetContainerResponseSchema.field.container!, [records[1]!]),
      /container is singular/,
    );
  });
});
