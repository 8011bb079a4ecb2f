import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidArgumentError } from "commander";
import { parseFilter } from "@moby-core/sdk/list";
import { collectEventFilter, eventFilters } from "./event-filter.js";

describe("event filters", () => {
  it("sends the grammar as is", () => {
    assert.deepEqual(eventFilters(['topic~="^/containers/"', "source==init"]), ['topic~="^/containers/"', "source==init"]);
  });

  it("turns docker's key=value into the grammar: one key's values OR-ed, keys AND-ed, AND-ed with the grammar", () => {
    assert.deepEqual(eventFilters(["source=init"]), ['source=="init"']);
    assert.deepEqual(eventFilters(["source=a", "source=b", "topic=/x"]), ['source=="a",topic=="/x"', 'source=="b",topic=="/x"']);
    assert.deepEqual(eventFilters(["source=a", 'topic~="^/c"']), ['source=="a",topic~="^/c"']);
    // What it sends parses by the events component's rules.
    for (const text of eventFilters(["source=a b", "topic=/x,y"])) parseFilter(text, { exact: ["topic", "source"] });
  });

  it("refuses a docker key the events component does not know, naming it", () => {
    assert.throws(() => collectEventFilter("type=container"), (e: unknown) => e instanceof InvalidArgumentError && /unknown filter key "type"; the keys are topic, source/.test(e.message));
  });
});
