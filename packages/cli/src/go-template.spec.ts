import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TemplateError, executeTemplate, parseTemplate, printValue, templateHeaders } from "./go-template.js";
import type { TemplateValue } from "./go-template.js";

const container = {
  ID: "web-1",
  Names: "web-1",
  Status: "Up 5s",
  State: { Status: "running", Pid: 42, Running: true, ExitCode: 0 },
  Config: { Env: ["PATH=/bin", "A=b c"], Labels: { app: "web", tier: "front" } },
  Mounts: [{ Destination: "/data" }, { Destination: "/etc/x" }],
  Empty: [],
  Nothing: null,
};

function render(text: string, dot: TemplateValue = container): string {
  return executeTemplate(parseTemplate(text), dot);
}

/** The TemplateError of fn, asserting that fn throws one. */
function templateError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof TemplateError, `not a TemplateError: ${String(error)}`);
    return error;
  }
  assert.fail("no error");
}

describe("Go templates", () => {
  it("reads fields, nested fields and dot, and keeps the text around them", () => {
    assert.equal(render("{{.ID}}\t{{.Status}}"), "web-1\tUp 5s");
    assert.equal(render("pid={{ .State.Pid }} running={{.State.Running}}"), "pid=42 running=true");
    assert.equal(render("{{.}}", "plain"), "plain");
    assert.equal(render("no actions"), "no actions");
  });

  it("prints lists, maps and missing values as Go does", () => {
    assert.equal(render("{{.Config.Env}}"), "[PATH=/bin A=b c]");
    assert.equal(render("{{.Config.Labels}}"), "map[app:web tier:front]");
    assert.equal(render("{{.Nothing}}"), "<nil>");
    assert.equal(render("{{.Nothing.Deeper}}"), "<no value>");
    assert.equal(printValue(undefined), "<no value>");
  });

  it("calls json, join, upper, lower, split, title, truncate, len and println, as calls and in pipelines", () => {
    assert.equal(render("{{json .Config.Env}}"), '["PATH=/bin","A=b c"]');
    assert.equal(render("{{json .State}}"), '{"Status":"running","Pid":42,"Running":true,"ExitCode":0}');
    assert.equal(render('{{join .Config.Env ", "}}'), "PATH=/bin, A=b c");
    assert.equal(render("{{upper .ID}} {{.ID | upper}} {{lower \"AbC\"}}"), "WEB-1 WEB-1 abc");
    assert.equal(render('{{split .ID "-"}}'), "[web 1]");
    assert.equal(render('{{title "hello world"}}'), "Hello World");
    assert.equal(render("{{truncate .ID 3}}"), "web");
    assert.equal(render("{{len .Mounts}} {{len .ID}} {{.Config.Labels | len}}"), "2 5 2");
    assert.equal(render("{{println .ID .Status}}"), "web-1 Up 5s\n");
    assert.equal(render("{{.State | json | upper}}"), '{"STATUS":"RUNNING","PID":42,"RUNNING":TRUE,"EXITCODE":0}');
  });

  it("compares with eq and ne, and combines with not, and, or, as Go's functions", () => {
    assert.equal(render('{{if eq .State.Status "running"}}up{{end}}'), "up");
    assert.equal(render('{{eq .State.Status "exited" "running"}} {{ne .State.Pid 42}} {{not .Empty}}'), "true false true");
    assert.equal(render("{{and .ID .Empty}}|{{or .Empty .ID}}|{{and .ID .Status}}"), "[]|web-1|Up 5s");
    assert.match(templateError(() => render("{{eq .Mounts .ID}}")).message, /cannot compare a list/);
  });

  it("runs if/else and range, range over a map by sorted key, {{else}} of an empty range", () => {
    assert.equal(render("{{if .State.Running}}up{{else}}down{{end}}"), "up");
    assert.equal(render("{{if .Empty}}some{{else}}none{{end}}"), "none");
    assert.equal(render("{{range .Mounts}}{{.Destination}};{{end}}"), "/data;/etc/x;");
    assert.equal(render("{{range .Config.Labels}}{{.}},{{end}}"), "web,front,");
    assert.equal(render("{{range .Empty}}x{{else}}empty{{end}}"), "empty");
  });

  it("trims the spaces next to {{- and -}}", () => {
    assert.equal(render("a  {{- .ID -}}  \n b"), "aweb-1b");
  });

  it("names the column of a parse error", () => {
    const cases: [string, number, RegExp][] = [
      ["{{.ID}} {{.Status", 9, /unclosed action/],
      ["{{nope .ID}}", 3, /function "nope" is not defined \(known: json, join/],
      ["{{.ID}}{{}}", 8, /empty action/],
      ["{{.ID .Status}}", 7, /two values without a function/],
      ["{{.ID | }}", 7, /a \| with nothing after it/],
      ["{{ | upper}}", 4, /a \| with nothing before it/],
      ["{{upper}}", 3, /upper takes 1 argument, not 0/],
      ['{{join .Names}}', 3, /join takes 2 arguments, not 1/],
      ["{{.ID | .Status}}", 9, /after \| comes a function/],
      ["{{.ID@}}", 6, /unexpected "@" in a field name/],
      ["{{$x := .ID}}", 3, /unexpected "\$"/],
      ['{{join .Names "x}}', 15, /unterminated string/],
      ["{{if .ID}}x", 1, /{{if}} without its {{end}}/],
      ["x{{end}}", 2, /{{end}} without an open/],
      ["{{else}}", 1, /{{else}} without an open/],
    ];
    for (const [text, column, reason] of cases) {
      const error = templateError(() => parseTemplate(text));
      assert.equal(error.column, column, `${text}: ${error.message}`);
      assert.match(error.message, reason, text);
      assert.match(error.message, new RegExp(`^template: at column ${column}: `), text);
    }
  });

  it("names the missing field, where it is and the fields there are, when run", () => {
    const error = templateError(() => render("{{.ID}} {{.State.Statu}}"));
    assert.equal(error.column, 11);
    assert.match(error.message, /\.State\.Statu: no field "Statu" \(fields: Status, Pid, Running, ExitCode\)/);
    assert.match(templateError(() => render("{{.ID.X}}")).message, /\.ID\.X: string "web-1" has no fields/);
    assert.match(templateError(() => render('{{join .ID ","}}')).message, /join: the first argument is string "web-1", not a list/);
    assert.match(templateError(() => render("{{range .ID}}{{end}}")).message, /range over string "web-1"/);
  });

  it("makes a table's header row from the fields its actions print", () => {
    const template = parseTemplate("{{.ID}}\t{{.Names | upper}}\t{{json .State.Status}}\t{{.RunningFor}}");
    assert.equal(templateHeaders(template, { ID: "CONTAINER ID" }), "CONTAINER ID\tNAMES\tSTATUS\tRUNNING FOR");
  });
});
