import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePlatform, selectPlatform } from "./platform.js";

const entry = (digest: string, os: string, architecture: string, variant?: string) => ({ mediaType: "m", digest, size: 1, platform: { os, architecture, ...(variant ? { variant } : {}) } });

describe("platforms", () => {
  const index = [entry("amd", "linux", "amd64"), entry("armv7", "linux", "arm", "v7"), entry("arm64", "linux", "arm64", "v8"), entry("win", "windows", "amd64")];

  it("select the manifest of the platform asked for", () => {
    assert.equal(selectPlatform(index, parsePlatform("linux/amd64", "p")).digest, "amd");
    assert.equal(selectPlatform(index, parsePlatform("linux/arm/v7", "p")).digest, "armv7");
    assert.equal(selectPlatform(index, parsePlatform("linux/arm64/v8", "p")).digest, "arm64");
    assert.equal(selectPlatform([entry("plain", "linux", "arm64")], parsePlatform("linux/arm64/v8", "p")).digest, "plain", "arm64 without a variant is v8");
  });

  it("refuse a platform the index lacks, naming what it has, and a malformed one", () => {
    assert.throws(() => selectPlatform(index, parsePlatform("linux/s390x", "p")), /no manifest for platform linux\/s390x in the index \(it has linux\/amd64, linux\/arm\/v7, linux\/arm64\/v8, windows\/amd64\)/);
    assert.throws(() => parsePlatform("linux", "platform"), /platform: "linux" is not os\/arch/);
  });
});
