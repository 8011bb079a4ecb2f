// init's lifecycle events reach the events component once it is up, those
// from before included, and `moby events` prints them.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createRegistry } from "@bufbuild/protobuf";
import { anyUnpack } from "@bufbuild/protobuf/wkt";
import { Health } from "@moby-core/component-api/v1";
import { dialSocket } from "@moby-core/sdk";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import { EventsService, StartPosition, file_moby_events_v1_component_events } from "@moby-core/events-api/v1";
import type { Envelope } from "@moby-core/events-api/v1";
import { Assembly, behaving } from "../support/assembly.js";
import { repoRoot } from "../support/contract-copy.js";

/** Every event the events component holds, read from the oldest until none comes for a while. */
async function allEvents(socket: string): Promise<Envelope[]> {
  const connection = dialSocket(socket);
  const stop = new AbortController();
  const events: Envelope[] = [];
  let quiet = setTimeout(() => stop.abort(), 1500);
  try {
    for await (const { envelope } of connection.client(EventsService).subscribe({ start: StartPosition.OLDEST }, { signal: stop.signal })) {
      if (envelope === undefined) continue;
      events.push(envelope);
      clearTimeout(quiet);
      quiet = setTimeout(() => stop.abort(), 500);
    }
  } catch (error) {
    if (!stop.signal.aborted) throw error;
  } finally {
    clearTimeout(quiet);
    connection.close();
  }
  return events;
}

describe("lifecycle events", () => {
  let assembly: Assembly;
  before(async () => {
    assembly = await Assembly.boot(`
components:
  events:
    command: ["node", "packages/events/bin/moby-events.js"]
    workingDir: ${repoRoot}
    services: [moby.events.v1.EventsService]
    config: { database: "\${RECORD}.db" }
  worker:
${behaving()}
    requires: [events]
`);
    await assembly.until("worker", (c) => c.state === ComponentState.RUNNING && c.health === Health.SERVING);
  });
  after(async () => {
    await assembly.shutdown();
    assembly.remove();
  });

  it("publishes started, ready, stopped and restarted, including those from before events was up", async () => {
    const worker = await assembly.component("worker");
    process.kill(worker.pid, "SIGKILL");
    await assembly.until("worker", (c) => c.restarts === 1 && c.state === ComponentState.RUNNING);
    const registry = createRegistry(file_moby_events_v1_component_events);
    const seen = (await allEvents(join(assembly.runDir, "events.sock")))
      .filter((e) => e.source === "init")
      .map((e) => `${e.topic} ${(anyUnpack(e.event!, registry) as { name?: string } | undefined)?.name}`);
    assert.deepEqual(seen.slice(0, 2), ["/components/started events", "/components/ready events"], "events' own start, sent once it was up");
    for (const expected of [
      "/components/started worker",
      "/components/ready worker",
      "/components/stopped worker",
      "/components/restarted worker",
    ]) {
      assert.ok(seen.includes(expected), `${expected} in ${seen.join(", ")}`);
    }
    assert.ok(seen.lastIndexOf("/components/ready worker") > seen.indexOf("/components/restarted worker"), "ready again after the restart");
  });

  it("prints them with moby events", async () => {
    const output = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        process.execPath,
        [join(repoRoot, "packages/cli/bin/moby.js"), "--run-dir", assembly.runDir, "events", "--oldest", "--filter", "topic==/components/ready"],
        { cwd: repoRoot },
        (error, stdout) => (error && !child.killed ? reject(error) : resolve(stdout)),
      );
      setTimeout(() => child.kill("SIGINT"), 2500);
    });
    const lines = output.trim().split("\n");
    assert.ok(lines.length >= 2, output);
    for (const line of lines) assert.match(line, /^\d+ {2}\S+ {2}init {2}\/components\/ready {2}\{"name":"(events|worker)","pid":\d+\}$/);
  });
});
