import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chooseLogFormat, echoFormatter, prettyLine } from "./log-format.js";

const line = JSON.stringify({ level: 30, time: "2026-12-06T01:02:03.456Z", component: "events", msg: "serving", socket: "/run/moby/events.sock" });

describe("chooseLogFormat", () => {
  it("is pretty on a terminal and json otherwise, unless asked", () => {
    assert.equal(chooseLogFormat(undefined, true), "pretty");
    assert.equal(chooseLogFormat(undefined, false), "json");
    assert.equal(chooseLogFormat("json", true), "json");
    assert.equal(chooseLogFormat("pretty", false), "pretty");
  });

  it("names the option and the choices for an unknown format", () => {
    assert.throws(() => chooseLogFormat("xml", true), /--log-format "xml" is not one of pretty, json/);
  });
});

describe("prettyLine", () => {
  it("shows level, [component] and message, then the other fields, on one line without colour", () => {
    const shown = prettyLine(false)(line);
    assert.match(shown, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[events\] serving \{"socket":"\/run\/moby\/events\.sock"\}$/);
    assert.ok(!shown.includes("\n"));
  });
});

describe("echoFormatter", () => {
  it("echoes a component's line as it is behind its name in json", () => {
    assert.equal(echoFormatter("json", false)("events", line), `[events] ${line}`);
  });

  it("makes a JSON log line readable and leaves any other line behind the component's name in pretty", () => {
    const echo = echoFormatter("pretty", false);
    assert.match(echo("events", line), /INFO: \[events\] serving/);
    assert.equal(echo("runc", "container_linux.go:380: starting container process"), "[runc] container_linux.go:380: starting container process");
    assert.equal(echo("x", '{"not":"a log line"}'), '[x] {"not":"a log line"}');
  });
});
