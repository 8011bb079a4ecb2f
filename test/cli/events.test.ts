// `moby events` against a real assembly: moby-init boots each reference
// manifest (moby.yaml, and moby.contained.yaml with events in a container)
// in a scratch run directory, events are published with the events API
// directly (through <run dir>/events.sock), and every command runs as a real
// `node packages/cli/bin/moby.js` process, checked by its stdout, stderr and
// exit code. Needs root and runc, as the reference assembly runs containers.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { create } from "@bufbuild/protobuf";
import { AnySchema, anyPack } from "@bufbuild/protobuf/wkt";
import type { Any } from "@bufbuild/protobuf/wkt";
import { dialSocket } from "@moby-core/sdk";
import type { Connection } from "@moby-core/sdk";
import { ContainerCreateSchema, EventsService } from "@moby-core/events-api/v1";
import { scratchDirectory } from "../support/component-process.js";
import { REFERENCE_MANIFESTS, ReferenceAssembly } from "../support/reference-assembly.js";
import { Background, moby, ok } from "./moby-assembly.js";

/** The source of the events this test publishes, to filter them from init's own. */
const SOURCE = "custom";

/** A payload of a type moby does not know: a component's own event type. */
const unknownPayload = (value: number[]) => create(AnySchema, { typeUrl: "type.googleapis.com/example.custom.v1.Greeted", value: new Uint8Array(value) });

/** One line of `moby events --json`. */
interface EventJson {
  sequence: string;
  timestamp: string;
  source: string;
  topic: string;
  event: Record<string, unknown>;
}

for (const manifest of REFERENCE_MANIFESTS) describe(`moby events against the reference assembly (${manifest.file})`, { skip: manifest.skip }, () => {
  const scratch = scratchDirectory("moby-cli-events-");
  const init = new ReferenceAssembly(manifest, scratch.dir);
  const runDir = init.runDir;
  const eventsSocket = join(runDir, "events.sock");
  let connection: Connection | undefined;

  /** Publishes an event from SOURCE and returns its sequence number. */
  async function publish(topic: string, event: Any): Promise<string> {
    connection ??= dialSocket(eventsSocket);
    const { sequence } = await connection.client(EventsService).publish({ source: SOURCE, topic, event });
    return String(sequence);
  }

  before(() => init.boot());

  after(async () => {
    connection?.close();
    try {
      await init.stopCleanly();
    } finally {
      await init.cleanup();
      scratch.remove();
    }
  });

  it("prints an event whose payload type it does not know with --json, as @type and base64, and keeps streaming", async () => {
    const first = await publish("/custom/greeted", unknownPayload([10, 1, 65]));
    const events = new Background(runDir, ["events", "--json", "--oldest", "--filter", `source==${SOURCE}`]);
    let last = "";
    try {
      await events.waitFor(`"sequence":"${first}"`);
      const known = await publish("/containers/create", anyPack(ContainerCreateSchema, create(ContainerCreateSchema, { id: "c1" })));
      last = await publish("/custom/greeted", unknownPayload([10, 1, 66]));
      await events.waitFor(`"sequence":"${last}"`);
      const lines = events.stdout.trimEnd().split("\n").map((line) => JSON.parse(line) as EventJson);
      assert.deepEqual(
        lines.map(({ sequence, source, topic, event }) => ({ sequence, source, topic, event })),
        [
          { sequence: first, source: SOURCE, topic: "/custom/greeted", event: { "@type": "type.googleapis.com/example.custom.v1.Greeted", value: "CgFB" } },
          { sequence: known, source: SOURCE, topic: "/containers/create", event: { "@type": "type.googleapis.com/moby.events.v1.ContainerCreate", id: "c1" } },
          { sequence: last, source: SOURCE, topic: "/custom/greeted", event: { "@type": "type.googleapis.com/example.custom.v1.Greeted", value: "CgFC" } },
        ],
      );
      for (const line of lines) assert.ok(!Number.isNaN(Date.parse(line.timestamp)), line.timestamp);
    } finally {
      events.kill("SIGINT");
    }
    assert.deepEqual(await events.exited, { code: 0, signal: null }, events.stderr);
    assert.equal(events.stderr, "");

    // The readable form names the type and the size, as before; docker's key=value filters are the grammar's AND.
    const readable = new Background(runDir, ["events", "--oldest", "--filter", `source=${SOURCE}`, "--filter", "topic=/custom/greeted"]);
    try {
      await readable.waitFor(`${last}  `);
      const lines = readable.stdout.trimEnd().split("\n");
      assert.equal(lines.length, 2, readable.stdout);
      assert.match(lines[0]!, new RegExp(`^${first}  \\S+  ${SOURCE}  /custom/greeted  type\\.googleapis\\.com/example\\.custom\\.v1\\.Greeted \\(3 bytes\\)$`));
    } finally {
      readable.kill("SIGINT");
    }
    assert.deepEqual(await readable.exited, { code: 0, signal: null }, readable.stderr);
  });

  it("stops by itself with --until and starts at --since, a time or a sequence, as docker events", async () => {
    const first = await publish("/custom/until", unknownPayload([10, 1, 67]));
    const second = await publish("/custom/until", unknownPayload([10, 1, 68]));
    const filter = `source==${SOURCE},topic==/custom/until`;
    const sofar = await ok(runDir, "events", "--oldest", "--until", "now", "--filter", filter);
    assert.deepEqual(
      sofar.stdout.trimEnd().split("\n").map((line) => line.split("  ")[0]),
      [first, second],
    );
    const until = (await ok(runDir, "events", "--oldest", "--until", "2000-01-01T00:00:00Z", "--filter", filter)).stdout;
    assert.equal(until, "", "nothing happened before 2000");
    const soon = new Date(Date.now() + 1500).toISOString();
    const waiting = await ok(runDir, "events", "--until", soon, "--filter", filter);
    assert.equal(waiting.stdout, "", "a future time waits for it, printing what comes, then ends");
    const recent = await ok(runDir, "events", "--since", "10m", "--until", "now", "--filter", filter);
    assert.deepEqual(recent.stdout.trimEnd().split("\n").map((line) => line.split("  ")[0]), [first, second], "--since 10m");
    const future = await ok(runDir, "events", "--since", new Date(Date.now() + 3_600_000).toISOString(), "--until", "now", "--filter", filter);
    assert.equal(future.stdout, "", "nothing since an hour from now");
    const resumed = await ok(runDir, "events", "--since", first, "--until", "now", "--filter", filter);
    assert.deepEqual(resumed.stdout.trimEnd().split("\n").map((line) => line.split("  ")[0]), [second], "--since a sequence resumes after it");
    const bad = await moby(runDir, "events", "--until", "yesterday");
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /"yesterday" is not "now", a date and time .* or a duration ago/);
  });

  it("names the events component and its socket when it is down and init is up", async () => {
    const { socket } = await init.component("events");
    await ok(runDir, "component", "stop", "events");
    try {
      for (const args of [["events"], ["events", "--json"], ["events", "--format", "json"]]) {
        const result = await moby(runDir, ...args);
        assert.equal(result.code, 125, result.stderr);
        assert.equal(result.stdout, "");
        const escaped = socket.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
        assert.match(result.stderr, new RegExp(`^moby: cannot reach the events component at ${escaped}: it is not serving \\((ENOENT|ECONNREFUSED)\\); see moby components\\n$`));
      }
    } finally {
      await ok(runDir, "component", "start", "events");
    }
  });
});
