import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidArgumentError } from "commander";
import type { ContainerJson } from "./containers-table.js";
import { collectPsFilter, isDockerForm, matchesPsFilters, namesStatus, noPsFilters } from "./ps-filter.js";
import type { PsFilters } from "./ps-filter.js";

function row(id: string, status: string | null, labels: Record<string, string> = {}, exitCode: number | null = null): ContainerJson {
  return { id, status, pid: 1, exitCode, signal: null, command: [], image: "", labels, runtime: "runc", createdAt: null, startedAt: null, exitedAt: null, execs: [], restartCount: 0 };
}

function filters(...texts: string[]): PsFilters {
  return texts.reduce((f, text) => collectPsFilter(text, f), noPsFilters());
}

const web = row("web-1", "running", { app: "web", tier: "front" });
const db = row("db-1", "stopped", { app: "db" }, 3);

describe("ps filters", () => {
  it("tells docker's key=value from the grammar", () => {
    assert.equal(isDockerForm("label=app=web"), true);
    assert.equal(isDockerForm("status=running"), true);
    assert.equal(isDockerForm("status==running"), false);
    assert.equal(isDockerForm("labels.app==web"), false);
    assert.equal(isDockerForm("id~=^web"), false);
    assert.equal(isDockerForm("status!=running"), false);
  });

  it("applies docker's keys: label with and without a value, id prefix, name substring, status (exited = stopped)", () => {
    const match = (f: PsFilters) => [web, db].filter((r) => matchesPsFilters(f, r)).map((r) => r.id);
    assert.deepEqual(match(filters("label=app=web")), ["web-1"]);
    assert.deepEqual(match(filters("label=tier")), ["web-1"]);
    assert.deepEqual(match(filters("id=db")), ["db-1"]);
    assert.deepEqual(match(filters("name=-1")), ["web-1", "db-1"]);
    assert.deepEqual(match(filters("status=exited")), ["db-1"]);
    // One key's values OR-ed, keys AND-ed.
    assert.deepEqual(match(filters("label=app=web", "label=app=db")), ["web-1", "db-1"]);
    assert.deepEqual(match(filters("label=app=web", "status=exited")), []);
  });

  it("applies the grammar, OR-ed, and with the docker part AND-ed", () => {
    const match = (f: PsFilters) => [web, db].filter((r) => matchesPsFilters(f, r)).map((r) => r.id);
    assert.deepEqual(match(filters("labels.app==web")), ["web-1"]);
    assert.deepEqual(match(filters("exitCode==3")), ["db-1"]);
    assert.deepEqual(match(filters("id~=^web", "status==stopped")), ["web-1", "db-1"]);
    assert.deepEqual(match(filters("id~=^web", "label=app=db")), []);
  });

  it("says a status filter looks at every container", () => {
    assert.equal(namesStatus(filters("status=exited")), true);
    assert.equal(namesStatus(filters("status!=running")), true);
    assert.equal(namesStatus(filters("label=app")), false);
  });

  it("refuses an unknown key, an unknown status and bad grammar, naming what was wrong", () => {
    assert.throws(() => filters("color=red"), (e: unknown) => e instanceof InvalidArgumentError && /unknown filter key "color"; the keys are id, name, label, status/.test(e.message));
    assert.throws(() => filters("status=sleeping"), (e: unknown) => e instanceof InvalidArgumentError && /unknown status; the statuses are/.test(e.message));
    assert.throws(() => filters("nosuchfield==1"), (e: unknown) => e instanceof InvalidArgumentError && /"nosuchfield==1"/.test(e.message));
  });
});
