import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { InvalidArgumentError } from "commander";
import { CliError } from "./init-client.js";
import { alignColumns, parseTemplateFormat, renderTemplate, unescapeFormat } from "./template-format.js";

const rows = [
  { ID: "web-1", Status: "Up 5s", Names: "web-1" },
  { ID: "a-much-longer-id", Status: "Exited (0) 1s ago", Names: "a-much-longer-id" },
];

describe("--format templates", () => {
  it("takes \\t and \\n written as two characters as a tab and a newline", () => {
    assert.equal(unescapeFormat("{{.ID}}\\t{{.Status}}\\n"), "{{.ID}}\t{{.Status}}\n");
  });

  it("prints one line per object, tabs as they are", () => {
    assert.equal(renderTemplate(parseTemplateFormat("{{.ID}}\\t{{.Status}}"), rows), "web-1\tUp 5s\na-much-longer-id\tExited (0) 1s ago\n");
    assert.equal(renderTemplate(parseTemplateFormat("{{json .}}"), rows.slice(0, 1)), '{"ID":"web-1","Status":"Up 5s","Names":"web-1"}\n');
    assert.equal(renderTemplate(parseTemplateFormat("{{.ID}}"), []), "");
  });

  it("with table, prints docker's header row and aligns the columns (at least 10 wide, 3 spaces apart)", () => {
    const text = renderTemplate(parseTemplateFormat("table {{.ID}}\\t{{.Names}}\\t{{.Status}}"), rows, { ID: "CONTAINER ID", Names: "NAMES" });
    assert.equal(
      text,
      [
        "CONTAINER ID       NAMES              STATUS",
        "web-1              web-1              Up 5s",
        "a-much-longer-id   a-much-longer-id   Exited (0) 1s ago",
        "",
      ].join("\n"),
    );
    assert.equal(alignColumns(["a\tb", "c\td"]), "a         b\nc         d\n");
  });

  it("refuses a bad template as a usage error naming the column", () => {
    assert.throws(() => parseTemplateFormat("table {{.ID}\\t{{.Names}}"), (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.equal(error.message, '"table {{.ID}\\\\t{{.Names}}": template: at column 6: unexpected "}" in a field name');
      return true;
    });
    assert.throws(() => parseTemplateFormat("{{bogus .ID}}"), /at column 3: function "bogus" is not defined/);
  });

  it("fails with a CliError naming the field an object does not have", () => {
    assert.throws(
      () => renderTemplate(parseTemplateFormat("{{.Nmes}}"), rows),
      (error: unknown) => error instanceof CliError && error.exitCode === 125 && /--format: template: at column 3: \.Nmes: no field "Nmes" \(fields: ID, Status, Names\)/.test(error.message),
    );
  });
});
