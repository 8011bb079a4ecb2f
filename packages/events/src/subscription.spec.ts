import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { ResourceExhaustedError } from "@moby-core/sdk";
import { parseFilter } from "@moby-core/sdk/list";
import { SubscribeResponseSchema } from "@moby-core/events-api/v1";
import type { SubscribeResponse } from "@moby-core/events-api/v1";
import { SqliteLog } from "./backend/sqlite-log.js";
import type { NewEvent, StoredEvent } from "./backend/event-log.js";
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
  return received(stream.next());
}

/** The response a pending next() resolves with, as a client reads it (see next). */
async function received(pending: Promise<IteratorResult<SubscribeResponse>>): Promise<SubscribeResponse> {
  const result = await pending;
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

/** Stored events at sequences first to last, under topic. */
function stored(first: number, last: number, topic = "/hit"): StoredEvent[] {
  return Array.from({ length: last - first + 1 }, (_, i) => ({ ...event(topic), sequence: BigInt(first + i), timeMs: 0 }));
}

describe("subscribe live, when the hub hands over a gap", () => {
  it("ends the subscribers that had not passed it with RESOURCE_EXHAUSTED naming the first lost sequence, after what came before it; others go on", { timeout: 20_000 }, async () => {
    const log = new SqliteLog(join(scratch, "gap", "events.db"), { maxEvents: 0, maxBytes: 0, maxAgeMs: 0 }, (error) => assert.fail(String(error)));
    const hub = new SubscriberHub();
    hub.delivered = 3n;
    const controller = new AbortController();
    const all = subscribe(log, hub, [], 3n, 1024, controller.signal);
    const none = subscribe(log, hub, [parseFilter("topic==/nothing", { exact: ["topic", "source"] }, "filters[0]")], 3n, 1024, controller.signal);
    // Joined after the gap (its start, 35, read from the log ahead of the hub): it lost nothing.
    const later = subscribe(log, hub, [], 35n, 1024, controller.signal);
    try {
      for (const stream of [all, none, later]) await next(stream);
      // Each joins the hub when asked for its next message after the first.
      const [allNext, noneNext, laterNext] = [all.next(), none.next(), later.next()];
      assert.equal(hub.size, 3);
      hub.broadcast(stored(4, 5));
      hub.broadcast(stored(31, 40));
      const first = await received(allNext);
      assert.deepEqual([first.envelope?.sequence, (await next(all)).envelope?.sequence], [4n, 5n], "what came before the gap is sent");
      for (const [ending, resume] of [[all.next(), 5n], [noneNext, 3n]] as const) {
        const ended = await ending.then(
          () => assert.fail("the stream went on past the gap"),
          (error: unknown) => error,
        );
        assert.ok(ended instanceof ResourceExhaustedError, String(ended));
        assert.match(ended.message, /the events at sequences 6 to 30 were dropped by retention before they could be sent: the first lost sequence is 6; resume after sequence (\d+)$/);
        assert.ok(ended.message.endsWith(`resume after sequence ${resume}`), ended.message);
      }
      assert.equal(hub.cutOff, 2);
      const rest: bigint[] = [];
      rest.push((await received(laterNext)).envelope!.sequence);
      for (let i = 37; i <= 40; i++) rest.push((await next(later)).envelope!.sequence);
      assert.deepEqual(rest, [36n, 37n, 38n, 39n, 40n], "the subscriber past the gap goes on, without the events it had passed");
      assert.equal(hub.size, 1);
    } finally {
      controller.abort();
      for (const stream of [all, none, later]) await stream.return(undefined);
      await log.close();
    }
  });
});
