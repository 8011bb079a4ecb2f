import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { parseFilter } from "@moby-core/sdk/list";
import { SubscribeResponseSchema } from "@moby-core/events-api/v1";
import type { SubscribeResponse } from "@moby-core/events-api/v1";
import { SqliteLog } from "./backend/sqlite-log.js";
import type { NewEvent } from "./backend/event-log.js";
import { eventCommits } from "./backend/group-commit.js";
import { REPLAY_PAGE, SubscriberHub, subscribe } from "./subscription.js";

const scratch = mkdtempSync(join(tmpdir(), "moby-events-subscription-spec-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Events the subscriptions below replay: more pages than one synchronous read would take. */
const PAGES = 5;
const LOGGED = PAGES * REPLAY_PAGE;

/** An event under topic. */
function event(topic: string): NewEvent {
  return { source: "container-store", topic, typeUrl: "type.googleapis.com/moby.events.v1.ContainerCreate", value: new Uint8Array(64), publishId: "" };
}

/** A log of LOGGED events under /miss, with a hub and group commit over it. */
function fixture(name: string): { log: SqliteLog; hub: SubscriberHub; commits: ReturnType<typeof eventCommits> } {
  const log = new SqliteLog(join(scratch, name, "events.db"), { maxEvents: 0, maxBytes: 0, maxAgeMs: 0 }, (error) => assert.fail(String(error)));
  log.appendBatch(Array.from({ length: LOGGED }, () => event("/miss")), Date.now());
  const hub = new SubscriberHub();
  hub.delivered = log.latest();
  return { log, hub, commits: eventCommits(log, (events) => hub.broadcast(events)) };
}

const hitsOnly = () => [parseFilter("topic==/hit", { exact: ["topic", "source"] }, "filters[0]")];

/** The next message of a stream, which must not have ended, as a client reads it (its envelope goes already encoded). */
async function next(stream: AsyncGenerator<SubscribeResponse>): Promise<SubscribeResponse> {
  const result = await stream.next();
  assert.equal(result.done, false, "the stream ended");
  return fromBinary(SubscribeResponseSchema, toBinary(SubscribeResponseSchema, result.value as SubscribeResponse));
}

describe("subscribe replay", () => {
  it("lets a publish commit while a replay that matches nothing is still reading the log, and then sends it once", { timeout: 20_000 }, async () => {
    const { log, hub, commits } = fixture("yields");
    const controller = new AbortController();
    const stream = subscribe(log, hub, hitsOnly(), 0n, 1024, controller.signal);
    try {
      assert.equal((await next(stream)).resumeAfterSequence, 0n);
      const replaying = next(stream);
      let liveSubscribersAtCommit: number | undefined;
      const appended = await commits.add(event("/hit")).then((result) => {
        liveSubscribersAtCommit = hub.size;
        return result;
      });
      assert.equal(appended.event.sequence, BigInt(LOGGED + 1));
      assert.equal(liveSubscribersAtCommit, 0, "the publish committed while the subscriber was still replaying, not after the whole log was read");

      const first = await replaying;
      assert.equal(first.envelope?.sequence, appended.event.sequence, "the replay found the event committed meanwhile");
      const live = await commits.add(event("/hit"));
      const second = await next(stream);
      assert.equal(second.envelope?.sequence, live.event.sequence, "then the next one, with no duplicate");
    } finally {
      controller.abort();
      await stream.return(undefined);
      await log.close();
    }
    assert.equal(hub.size, 0, "the subscriber left the hub");
  });

  it("sends progress while replaying events that the filters leave out, then goes live without a gap", { timeout: 20_000 }, async () => {
    const { log, hub, commits } = fixture("progress");
    const controller = new AbortController();
    // A progress interval of 0: a progress message after every page with nothing sent.
    const stream = subscribe(log, hub, hitsOnly(), 0n, 1024, controller.signal, 0);
    try {
      const progress: bigint[] = [];
      for (let i = 0; i <= PAGES; i++) {
        const message = await next(stream);
        assert.equal(message.envelope, undefined, "only progress messages: nothing matches");
        progress.push(message.resumeAfterSequence);
      }
      const pageEnds = Array.from({ length: PAGES + 1 }, (_, page) => BigInt(page * REPLAY_PAGE));
      assert.deepEqual(progress, pageEnds, "the start, then one progress message per page replayed, each after the last event read");

      const hit = await commits.add(event("/hit"));
      const message = await next(stream);
      assert.equal(message.envelope?.sequence, hit.event.sequence);
    } finally {
      controller.abort();
      await stream.return(undefined);
      await log.close();
    }
  });
});
