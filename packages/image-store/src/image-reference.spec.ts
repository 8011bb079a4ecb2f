import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { familiarName, formatReference, parseReference, recordName } from "./image-reference.js";

const HEX = "a".repeat(64);

describe("image references", () => {
  it("are normalized as docker reads them", () => {
    const cases: [string, string][] = [
      ["busybox", "docker.io/library/busybox:latest"],
      ["library/busybox:1.36", "docker.io/library/busybox:1.36"],
      ["team/app", "docker.io/team/app:latest"],
      ["localhost:5000/team/app:1.2", "localhost:5000/team/app:1.2"],
      ["127.0.0.1:5000/app", "127.0.0.1:5000/app:latest"],
      ["registry.example/a/b/c:v1", "registry.example/a/b/c:v1"],
      [`busybox@sha256:${HEX}`, `docker.io/library/busybox@sha256:${HEX}`],
      ["index.docker.io/library/alpine:3", "docker.io/library/alpine:3"],
    ];
    for (const [text, name] of cases) assert.equal(formatReference(parseReference(text, "reference")), name, text);
    assert.equal(recordName(parseReference(`busybox:1@sha256:${HEX}`, "r")), "docker.io/library/busybox:1");
    assert.equal(familiarName("docker.io/library/busybox:latest"), "busybox:latest");
    assert.equal(familiarName("docker.io/team/app:1"), "team/app:1");
    assert.equal(familiarName("localhost:5000/app:1"), "localhost:5000/app:1");
  });

  it("that break a rule are INVALID_ARGUMENT naming the field and the part", () => {
    const bad: [string, RegExp][] = [
      ["", /reference: is required/],
      ["Busybox", /repository part "Busybox"/],
      ["busybox:-x", /tag "-x"/],
      ["busybox@sha256:abc", /digest "sha256:abc"/],
      ["a//b", /repository part ""/],
      ["x".repeat(5000), /longer than 4096 bytes/],
    ];
    for (const [text, message] of bad) assert.throws(() => parseReference(text, "reference"), message, text);
  });
});
