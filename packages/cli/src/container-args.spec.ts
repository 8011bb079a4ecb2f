import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidArgumentError } from "commander";
import {
  collectEnv,
  collectLabel,
  newContainerId,
  newExecId,
  parseContainerId,
  parseKeyValue,
  parseRestart,
  parseSignal,
  parseUser,
  parseWorkdir,
} from "./container-args.js";
import { isId } from "@moby-core/sdk/list";
import { RestartMode } from "@moby-core/container-runtime-api/v1";

const invalid = (f: () => unknown, message?: RegExp) =>
  assert.throws(f, (error: unknown) => error instanceof InvalidArgumentError && (message === undefined || message.test(error.message)));

describe("parseKeyValue", () => {
  it("splits at the first =; the value may be empty or hold more =", () => {
    assert.deepEqual(parseKeyValue("A=b", "--env"), { key: "A", value: "b" });
    assert.deepEqual(parseKeyValue("A=", "--env"), { key: "A", value: "" });
    assert.deepEqual(parseKeyValue("A=b=c", "--env"), { key: "A", value: "b=c" });
    assert.deepEqual(parseKeyValue("app.kubernetes.io/name=web", "--label"), { key: "app.kubernetes.io/name", value: "web" });
  });

  it("refuses a missing = or an empty key, naming the option", () => {
    invalid(() => parseKeyValue("A", "--env"), /^--env "A": expected KEY=VALUE/);
    invalid(() => parseKeyValue("=b", "--label"), /^--label "=b"/);
    invalid(() => parseKeyValue("", "--env"));
    invalid(() => parseKeyValue("A=\0", "--env"), /NUL/);
  });
});

describe("collectEnv and collectLabel", () => {
  it("collects --env entries in order, as given", () => {
    assert.deepEqual(collectEnv("B=2", collectEnv("A=1", [])), ["A=1", "B=2"]);
    invalid(() => collectEnv("nope", []));
  });

  it("collects --label pairs; a later key wins", () => {
    assert.deepEqual(collectLabel("a=3", collectLabel("b=2", collectLabel("a=1", {}))), { a: "3", b: "2" });
    invalid(() => collectLabel("novalue", {}));
  });
});

describe("parseUser", () => {
  it("reads UID:GID as numbers; a UID alone goes to the runtime, which takes its primary group from /etc/passwd", () => {
    assert.deepEqual(parseUser("1000"), { name: "1000" });
    assert.deepEqual(parseUser("1000:100"), { uid: 1000, gid: 100 });
    assert.deepEqual(parseUser("0:0"), { uid: 0, gid: 0 });
    assert.deepEqual(parseUser("4294967294:4294967294"), { uid: 4294967294, gid: 4294967294 });
  });

  it("takes names as docker's: NAME, NAME:GROUP, UID:GROUP, NAME:GID, for the runtime to resolve", () => {
    assert.deepEqual(parseUser("nobody"), { name: "nobody" });
    assert.deepEqual(parseUser("nobody:nogroup"), { name: "nobody:nogroup" });
    assert.deepEqual(parseUser("1000:staff"), { name: "1000:staff" });
    assert.deepEqual(parseUser("www-data:33"), { name: "www-data:33" });
    assert.deepEqual(parseUser("_apt"), { name: "_apt" });
  });

  it("refuses signs, empty parts, bad names and ids out of range", () => {
    for (const text of ["1000:", ":100", "-1", "1:2:3", "", "1.5", "a b", "nobody:", "9user", "root:x:y"]) invalid(() => parseUser(text), /is not a user: give NAME, UID, NAME:GROUP or UID:GID/);
    for (const text of ["4294967295", "1:4294967295"]) invalid(() => parseUser(text), /a uid or gid is at most 4294967294/);
  });
});

describe("parseWorkdir", () => {
  it("takes an absolute path only", () => {
    assert.equal(parseWorkdir("/srv/app"), "/srv/app");
    invalid(() => parseWorkdir("srv"), /absolute/);
    invalid(() => parseWorkdir(""));
  });
});

describe("parseSignal", () => {
  it("reads names with or without SIG, in any case, and numbers 1 to 64", () => {
    assert.equal(parseSignal("TERM"), 15);
    assert.equal(parseSignal("SIGTERM"), 15);
    assert.equal(parseSignal("sigkill"), 9);
    assert.equal(parseSignal("kill"), 9);
    assert.equal(parseSignal("HUP"), 1);
    assert.equal(parseSignal("USR1"), 10);
    assert.equal(parseSignal("9"), 9);
    assert.equal(parseSignal("1"), 1);
    assert.equal(parseSignal("64"), 64);
  });

  it("refuses unknown names and numbers out of range", () => {
    invalid(() => parseSignal("FOO"), /"FOO" is not a signal/);
    invalid(() => parseSignal("0"), /out of range/);
    invalid(() => parseSignal("65"), /out of range/);
    invalid(() => parseSignal("-9"));
    invalid(() => parseSignal(""));
  });
});

describe("parseRestart", () => {
  it("takes docker's policies", () => {
    assert.deepEqual(parseRestart("no"), { mode: RestartMode.NO, maxRetries: 0 });
    assert.deepEqual(parseRestart("always"), { mode: RestartMode.ALWAYS, maxRetries: 0 });
    assert.deepEqual(parseRestart("unless-stopped"), { mode: RestartMode.UNLESS_STOPPED, maxRetries: 0 });
    assert.deepEqual(parseRestart("on-failure"), { mode: RestartMode.ON_FAILURE, maxRetries: 0 });
    assert.deepEqual(parseRestart("on-failure:5"), { mode: RestartMode.ON_FAILURE, maxRetries: 5 });
    assert.deepEqual(parseRestart("on-failure:1000000"), { mode: RestartMode.ON_FAILURE, maxRetries: 1_000_000 });
  });

  it("refuses anything else, saying what it takes", () => {
    invalid(() => parseRestart("sometimes"), /"sometimes" is not a restart policy: give no, on-failure\[:max-retries\], always or unless-stopped/);
    invalid(() => parseRestart(""), /not a restart policy/);
    invalid(() => parseRestart("on-failure:1:2"), /not a restart policy/);
    invalid(() => parseRestart("always:3"), /only on-failure takes a maximum retry count/);
    invalid(() => parseRestart("on-failure:-1"), /whole number from 0 \(no limit\) to 1000000/);
    invalid(() => parseRestart("on-failure:x"), /whole number/);
    invalid(() => parseRestart("on-failure:1000001"), /whole number/);
  });
});

describe("ids", () => {
  it("takes --name values that follow the store's id rule", () => {
    assert.equal(parseContainerId("web-1.a_b"), "web-1.a_b");
    for (const text of ["", "-web", "web-", "a..b", "a/b", "a b", "x".repeat(77)]) invalid(() => parseContainerId(text), /is not a container id/);
  });

  it("makes up ids of a prefix and 8 hex digits that follow the rule", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const id = newContainerId();
      assert.match(id, /^c-[0-9a-f]{8}$/);
      assert.ok(isId(id));
      ids.add(id);
    }
    assert.ok(ids.size > 45, "random");
    assert.match(newExecId(), /^e-[0-9a-f]{8}$/);
  });
});

describe("bind mounts", () => {
  it("parses -v SRC:DST[:ro] against cwd and --mount's docker keys", async () => {
    const { parseMount, parseVolume } = await import("./container-args.js");
    assert.deepEqual(parseVolume("./data:/data:ro", "/home/u"), { source: "/home/u/data", target: "/data", readonly: true });
    assert.deepEqual(parseVolume("/srv:/srv"), { source: "/srv", target: "/srv", readonly: false });
    assert.deepEqual(parseMount("type=bind,src=/a,dst=/b,readonly"), { source: "/a", target: "/b", readonly: true });
    assert.deepEqual(parseMount("type=bind,source=/a,target=/b,readonly=false"), { source: "/a", target: "/b", readonly: false });
  });

  it("refuses named volumes, relative targets and other mount types, naming the value", async () => {
    const { parseMount, parseVolume } = await import("./container-args.js");
    assert.throws(() => parseVolume("data:/data"), /named volumes do not exist here/);
    assert.throws(() => parseVolume("/a:b"), /the target "b" is not an absolute path/);
    assert.throws(() => parseVolume("/a:/b:rx"), /expected SRC:DST or SRC:DST:ro/);
    assert.throws(() => parseMount("type=volume,source=v,target=/b"), /type=volume is not supported: only type=bind/);
    assert.throws(() => parseMount("type=bind,target=/b"), /give both source=HOST_PATH and target=CONTAINER_PATH/);
    assert.throws(() => parseMount("type=bind,source=/a,target=/b,color=red"), /unknown key "color"/);
  });
});

describe("parseLogTime", () => {
  it("reads a duration before now, an RFC 3339 time and Unix seconds", async () => {
    const { parseLogTime } = await import("./container-args.js");
    const now = new Date("2026-12-06T02:00:00Z");
    assert.equal(parseLogTime("10m", "--since", now).toISOString(), "2026-12-06T01:50:00.000Z");
    assert.equal(parseLogTime("2026-12-06T01:00:00.5Z", "--since", now).toISOString(), "2026-12-06T01:00:00.500Z");
    assert.equal(parseLogTime("1765000000.5", "--since", now).getTime(), 1_765_000_000_500);
    assert.throws(() => parseLogTime("yesterday", "--until", now), /--until "yesterday": give a duration/);
    assert.throws(() => parseLogTime("2026-13-45T99:00:00Z", "--until", now), /--until/);
  });
});
