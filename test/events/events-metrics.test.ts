// The events component's own metrics move as it is used: a real component
// process on a real socket and SQLite file, read through GetMetrics, checked
// by promtool and by a parser of the text format.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ComponentService } from "@moby-core/component-api/v1";
import { StartPosition } from "@moby-core/events-api/v1";
import { scratchDirectory } from "../support/component-process.js";
import { EventsComponent, containerCreate } from "../support/events-component.js";
import { parseExposition, promtoolCheck, sampleValue } from "../support/prometheus-text.js";

describe("events metrics", () => {
  const scratch = scratchDirectory("moby-events-metrics-");
  const events = new EventsComponent(scratch.dir, { retention: { maxEvents: 3 } });

  before(() => events.start());
  after(async () => {
    await events.close();
    scratch.remove();
  });

  const metrics = async () => {
    const { text } = await events.dial().client(ComponentService).getMetrics({});
    promtoolCheck(text);
    return parseExposition(text);
  };

  it("counts publishes, duplicates, what retention deleted, the sequences and live subscribers", async () => {
    const client = events.client();
    const abort = new AbortController();
    const live = client.subscribe({ start: StartPosition.NOW }, { signal: abort.signal })[Symbol.asyncIterator]();
    await live.next();
    for (let i = 0; i < 5; i++) await client.publish(containerCreate(`c${i}`, { publishId: `p${i}` }));
    const again = await client.publish(containerCreate("c4", { publishId: "p4" }));
    assert.equal(again.duplicate, true);
    const now = await metrics();
    abort.abort();
    await live.next().catch(() => {});
    assert.equal(sampleValue(now, "moby_events_latest_sequence"), 5);
    assert.equal(sampleValue(now, "moby_events_oldest_sequence"), 3);
    assert.equal(sampleValue(now, "moby_events_retained_events"), 3);
    assert.equal(sampleValue(now, "moby_events_published_total"), 5);
    assert.equal(sampleValue(now, "moby_events_publish_duplicates_total"), 1);
    assert.equal(sampleValue(now, "moby_events_retention_deleted_total"), 2);
    assert.equal(sampleValue(now, "moby_events_subscribers"), 1);
    assert.equal(sampleValue(now, "moby_events_subscribers_cut_off_total"), 0);
    // Six publishes, one after another: six commits of one write each.
    assert.equal(sampleValue(now, "moby_events_commit_batch_size"), 6);
    assert.equal(sampleValue(now, "moby_events_commit_duration_seconds"), 6);
  });
});
