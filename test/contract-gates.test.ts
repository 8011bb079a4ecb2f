// The CI gates on the contract (lint, format, generated-code drift, breaking
// changes) each fail for the right reason on a deliberately broken copy, and
// pass on the contract as it is.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ContractCopy, repoRoot, run } from "./support/contract-copy.js";

const component = "proto/moby/component/v1/component.proto";
const baseline = join(repoRoot, "baseline/moby-api.binpb");

/** The rule ids `buf breaking` or `buf lint` reported, from --error-format json. */
function reportedRules(stdout: string): string[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => (JSON.parse(line) as { type: string }).type);
}

/** Runs `buf breaking` on a copy edited by edit, against the committed baseline. */
function breakingAfter(edit: (copy: ContractCopy) => void) {
  const copy = new ContractCopy();
  try {
    edit(copy);
    return run("buf", ["breaking", "--against", baseline, "--error-format", "json"], copy.dir);
  } finally {
    copy.remove();
  }
}

describe("buf breaking against the released baseline", () => {
  it("passes for the contract as it is", () => {
    const result = run("buf", ["breaking", "--against", baseline], repoRoot);
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it("rejects a renumbered field", () => {
    const result = breakingAfter((c) => c.replaceIn(component, "string version = 3;", "string version = 30;"));
    assert.notEqual(result.status, 0);
    assert.ok(reportedRules(result.stdout).includes("FIELD_NO_DELETE"), result.stdout);
  });

  it("rejects a changed field type", () => {
    const result = breakingAfter((c) => c.replaceIn(component, "uint32 pid = 7;", "string pid = 7;"));
    assert.notEqual(result.status, 0);
    assert.ok(reportedRules(result.stdout).includes("FIELD_SAME_TYPE"), result.stdout);
  });

  it("rejects a removed RPC", () => {
    const result = breakingAfter((c) =>
      c.replaceIn(component, "rpc Reload(ReloadRequest) returns (ReloadResponse);", ""),
    );
    assert.notEqual(result.status, 0);
    assert.ok(reportedRules(result.stdout).includes("RPC_NO_DELETE"), result.stdout);
  });

  it("rejects a field removed without reserving it", () => {
    const result = breakingAfter((c) => c.replaceIn(component, "string revision = 4;", ""));
    assert.notEqual(result.status, 0);
    assert.ok(reportedRules(result.stdout).includes("FIELD_NO_DELETE"), result.stdout);
  });

  it("accepts an additive change (a new field, message and RPC)", () => {
    const result = breakingAfter((c) => {
      c.replaceIn(component, "uint64 config_generation = 9;", "uint64 config_generation = 9;\n  string description = 10;");
      c.replaceIn(
        component,
        "rpc Reload(ReloadRequest) returns (ReloadResponse);",
        "rpc Reload(ReloadRequest) returns (ReloadResponse);\n  rpc Ping(PingRequest) returns (PingResponse);",
      );
      c.replaceIn(component, "message GetInfoRequest {}", "message GetInfoRequest {}\nmessage PingRequest {}\nmessage PingResponse {}");
    });
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });
});

describe("buf lint", () => {
  it("passes for the contract as it is", () => {
    const result = run("buf", ["lint"], repoRoot);
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it("rejects an element without a comment and a misnamed field", () => {
    const copy = new ContractCopy();
    after(() => copy.remove());
    copy.replaceIn(component, "message GetInfoRequest {}", "message GetInfoRequest {\n  string BadName = 1;\n}");
    const result = run("buf", ["lint", "--error-format", "json"], copy.dir);
    assert.notEqual(result.status, 0);
    const rules = reportedRules(result.stdout);
    assert.ok(rules.includes("COMMENT_FIELD"), result.stdout);
    assert.ok(rules.includes("FIELD_LOWER_SNAKE_CASE"), result.stdout);
  });
});

describe("buf format", () => {
  it("passes for the contract as it is", () => {
    const result = run("buf", ["format", "-d", "--exit-code"], repoRoot);
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it("rejects a badly formatted file, showing the diff", () => {
    const copy = new ContractCopy();
    after(() => copy.remove());
    copy.replaceIn(component, "  uint32 pid = 7;", "uint32    pid=7;");
    const result = run("buf", ["format", "-d", "--exit-code"], copy.dir);
    assert.notEqual(result.status, 0);
    assert.match(result.stdout, /uint32 pid = 7;/);
  });
});

describe("generated code drift check", () => {
  it("passes for gen/ as committed", () => {
    const result = run("bash", ["scripts/check-generated.sh"], repoRoot);
    assert.equal(result.status, 0, result.stdout + result.stderr);
  });

  it("rejects a hand edit of gen/", () => {
    const copy = new ContractCopy();
    after(() => copy.remove());
    copy.replaceIn("gen/moby/component/v1/component_pb.ts", "pid: number;", "pid: number | string;");
    const result = run("bash", ["scripts/check-generated.sh"], copy.dir);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /npm run generate/);
    assert.match(result.stdout, /component_pb\.ts/);
  });

  it("rejects a proto change that was not regenerated", () => {
    const copy = new ContractCopy();
    after(() => copy.remove());
    copy.replaceIn(component, "uint64 config_generation = 9;", "uint64 config_generation = 9;\n\n  // A new field.\n  string description = 10;");
    const result = run("bash", ["scripts/check-generated.sh"], copy.dir);
    assert.notEqual(result.status, 0);
    assert.match(result.stdout, /description/);
  });
});
