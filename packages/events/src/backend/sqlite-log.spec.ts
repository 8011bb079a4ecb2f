import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import Database from "better-sqlite3";
import { SqliteLog } from "./sqlite-log.js";
import type { NewEvent, Retention } from "./event-log.js";
import { eventCommits } from "./group-commit.js";

const scratch = mkdtempSync(join(tmpdir(), "moby-events-log-spec-"));
after(() => rmSync(scratch, { recursive: true, force: true }));
let databases = 0;

/** A path for a new database in the scratch directory. */
function databasePath(): string {
  databases++;
  return join(scratch, `log${databases}`, "events.db");
}

/** A new log with a fresh database; retention errors go to reported. */
function openLog(retention: Partial<Retention>, reported: unknown[] = []): { log: SqliteLog; path: string } {
  const path = databasePath();
  const log = new SqliteLog(path, { maxEvents: 0, maxBytes: 0, maxAgeMs: 0, ...retention }, (error) => reported.push(error));
  return { log, path };
}

/** An event to append. */
function event(topic = "/containers/create", publishId = ""): NewEvent {
  return { source: "container-store", topic, typeUrl: "type.googleapis.com/moby.events.v1.ContainerCreate", value: new Uint8Array([10, 1, 65]), publishId };
}

/** What a second connection finds in the database: the sequences, count and bytes. */
function stored(path: string): { sequences: bigint[]; events: number; bytes: number } {
  const db = new Database(path, { readonly: true });
  try {
    db.defaultSafeIntegers(true);
    const rows = db.prepare("SELECT sequence, size FROM events ORDER BY sequence").all() as { sequence: bigint; size: bigint }[];
    return { sequences: rows.map((r) => r.sequence), events: rows.length, bytes: rows.reduce((sum, r) => sum + Number(r.size), 0) };
  } finally {
    db.close();
  }
}

/** Makes every DELETE from the events table fail, as a full disk would, until the returned function is called. */
function failDeletes(path: string): () => void {
  const db = new Database(path);
  db.exec("CREATE TRIGGER fail_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'simulated fault: database or disk is full'); END");
  return () => {
    db.exec("DROP TRIGGER fail_delete");
    db.close();
  };
}

/** Asserts the log's counters agree with the database and the retained sequences are oldest..latest with no gap. */
function assertContiguous(log: SqliteLog, path: string): bigint[] {
  const found = stored(path);
  assert.deepEqual(log.size(), { events: found.events, bytes: found.bytes }, "the counters agree with the database");
  const expected: bigint[] = [];
  for (let s = log.oldest(); s <= log.latest(); s++) expected.push(s);
  assert.deepEqual(found.sequences, expected, "the log holds oldest..latest with no gap");
  assert.deepEqual(
    log.read(log.oldest() - 1n, 1000).map((e) => e.sequence),
    expected,
    "a replay from the oldest sees every retained event",
  );
  return found.sequences;
}

describe("SqliteLog retention after a commit", () => {
  it("acknowledges and broadcasts a commit whose retention step fails, reports the failure, and applies retention with the next commit", async () => {
    const reported: unknown[] = [];
    const { log, path } = openLog({ maxEvents: 2 }, reported);
    const broadcast: bigint[][] = [];
    const commits = eventCommits(log, (events) => broadcast.push(events.map((e) => e.sequence)));
    try {
      await commits.add(event());
      await commits.add(event());

      const allowDeletes = failDeletes(path);
      const [third, fourth] = await Promise.allSettled([commits.add(event()), commits.add(event("/containers/create", "id-4"))]);
      assert.equal(third.status, "fulfilled", "a durable event is acknowledged even though retention failed after its commit");
      assert.equal(fourth.status, "fulfilled");
      assert.deepEqual([third.value.event.sequence, third.value.duplicate], [3n, false]);
      assert.deepEqual([fourth.value.event.sequence, fourth.value.duplicate], [4n, false]);
      assert.deepEqual(broadcast, [[1n], [2n], [3n, 4n]], "live subscribers are handed the committed events");
      assert.equal(reported.length, 1, "the retention failure is reported once");
      assert.match(String(reported[0]), /simulated fault/);
      assert.deepEqual(assertContiguous(log, path), [1n, 2n, 3n, 4n], "nothing was dropped");

      // The publisher retrying with its publish id finds the event recorded.
      const retry = await commits.add(event("/containers/create", "id-4"));
      assert.deepEqual([retry.event.sequence, retry.duplicate], [4n, true]);
      assert.equal(reported.length, 2, "each commit tries retention again, and reports it failing again");

      allowDeletes();
      const fifth = await commits.add(event());
      assert.equal(fifth.event.sequence, 5n);
      assert.deepEqual(assertContiguous(log, path), [4n, 5n], "the next commit applied the bound");
      assert.equal(reported.length, 2);
      assert.deepEqual(broadcast.at(-1), [5n]);
    } finally {
      await log.close();
    }
  });

  it("leaves the counters as they were when a retention step fails", () => {
    const reported: unknown[] = [];
    const { log, path } = openLog({ maxBytes: 1 }, reported);
    try {
      const allowDeletes = failDeletes(path);
      log.appendBatch([event(), event()], 1_000);
      assert.equal(reported.length, 1);
      assertContiguous(log, path);
      log.retention = { maxEvents: 0, maxBytes: 0, maxAgeMs: 1 };
      assert.throws(() => log.expire(10_000), /simulated fault/, "expire reports its own failure to its caller");
      assertContiguous(log, path);
      allowDeletes();
      log.expire(10_000);
      assert.deepEqual(assertContiguous(log, path), []);
      assert.equal(log.oldest(), 3n, "an empty log's oldest is latest + 1");
    } finally {
      void log.close();
    }
  });
});

describe("SqliteLog age retention", () => {
  it("drops only a prefix of the log, so events after a clock that stepped back leave no gap", () => {
    const { log, path } = openLog({ maxAgeMs: 1_000 });
    try {
      log.appendBatch([event()], 10_000); // 1
      log.appendBatch([event()], 11_000); // 2
      log.appendBatch([event()], 9_000); // 3: the wall clock stepped back
      log.appendBatch([event()], 12_000); // 4

      // Cutoff 10_500: 1 and 3 carry older times, but 3 was recorded after 2, which is still young.
      log.expire(11_500);
      assert.deepEqual(assertContiguous(log, path), [2n, 3n, 4n]);

      // Cutoff 11_200: 2 is old, and so 3 with it; 4 stays.
      log.expire(12_200);
      assert.deepEqual(assertContiguous(log, path), [4n]);

      log.expire(13_500);
      assert.deepEqual(assertContiguous(log, path), []);
      assert.deepEqual([log.oldest(), log.latest()], [5n, 4n]);
    } finally {
      void log.close();
    }
  });

  it("keeps everything while the oldest event is young, and forgets nothing with no age bound", () => {
    const { log, path } = openLog({ maxAgeMs: 0 });
    try {
      log.appendBatch([event(), event()], 1_000);
      log.expire(1_000_000);
      assert.deepEqual(assertContiguous(log, path), [1n, 2n]);
      log.retention = { maxEvents: 0, maxBytes: 0, maxAgeMs: 5_000 };
      log.expire(5_500);
      assert.deepEqual(assertContiguous(log, path), [1n, 2n]);
    } finally {
      void log.close();
    }
  });
});
