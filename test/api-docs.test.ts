// The API reference (docs/api/, written by scripts/protoc-gen-moby-docs.ts):
// every element buf lint's COMMENTS rules see is on its page with its
// comment, counted from buf's own image of the contract rather than from the
// plugin; every internal link reaches an existing page and anchor; and the
// drift check fails when docs/api is stale or edited by hand.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { ContractCopy, repoRoot, run } from "./support/contract-copy.js";

/** The parts of a FileDescriptorProto (buf build, JSON format) this test reads. */
interface FileJson {
  name: string;
  package?: string;
  messageType?: MessageJson[];
  enumType?: EnumJson[];
  service?: { name: string; method?: MethodJson[] }[];
  sourceCodeInfo?: { location?: { path?: number[]; leadingComments?: string }[] };
}
interface MethodJson {
  name: string;
  inputType: string;
  outputType: string;
  clientStreaming?: boolean;
  serverStreaming?: boolean;
  options?: { idempotencyLevel?: string };
}
interface MessageJson {
  name: string;
  field?: FieldJson[];
  nestedType?: MessageJson[];
  enumType?: EnumJson[];
  oneofDecl?: { name: string }[];
  options?: { mapEntry?: boolean };
}
interface FieldJson {
  name: string;
  number: number;
  jsonName: string;
  typeName?: string;
  oneofIndex?: number;
  proto3Optional?: boolean;
}
interface EnumJson {
  name: string;
  value?: { name: string; number: number }[];
}

/** The element kinds buf lint's COMMENTS rules check. */
type Kind = "service" | "rpc" | "message" | "field" | "oneof" | "enum" | "enum value";

/** One commented element of the contract and where the reference must show it. */
interface Element {
  kind: Kind;
  fullName: string;
  page: string;
  /** The anchor of its own section (services, RPCs, messages, enums) or of its parent's. */
  section: string;
  /** For fields, oneofs and enum values: the first cell of its table row. */
  row?: string;
  /** Cells the row must hold besides the name: number and JSON name. */
  cells?: string[];
  /** Anchors or URLs the element's section or row must link to (its types). */
  links: string[];
  /** Lines an RPC's section must hold: its streaming, idempotency and documented codes. */
  facts?: string[];
  comment: string;
}

const wellKnown = "https://protobuf.dev/reference/protobuf/google.protobuf/#";

/** The anchor the reference promises for a full name: lowercase, dots kept. */
function anchorOf(fullName: string): string {
  return fullName.replace(/^\./, "").toLowerCase();
}

/** Where a referenced type must link: its page and anchor, or the well-known types' docs. */
function linkTo(typeName: string, fromPackage: string, packages: string[]): string {
  const name = typeName.replace(/^\./, "");
  if (name.startsWith("google.protobuf.")) return wellKnown + name.slice("google.protobuf.".length).toLowerCase();
  const pkg = packages.filter((p) => name.startsWith(`${p}.`)).sort((a, b) => b.length - a.length)[0];
  assert.ok(pkg !== undefined, `${name} is in no package of the contract`);
  return `${pkg === fromPackage ? "" : `${pkg}.md`}#${anchorOf(name)}`;
}

/**
 * Every element of the contract that COMMENTS checks, from `buf build`'s
 * image (imports excluded): services, RPCs, messages (not map entries),
 * fields, oneofs (not proto3-optional ones), enums and enum values.
 */
function contractElements(files: FileJson[]): Element[] {
  const elements: Element[] = [];
  const packages = files.map((f) => f.package ?? "");
  for (const file of files) {
    const pkg = file.package ?? "";
    const page = `${pkg}.md`;
    const comments = new Map<string, string>();
    for (const loc of file.sourceCodeInfo?.location ?? []) {
      comments.set((loc.path ?? []).join(","), loc.leadingComments ?? "");
    }
    const commentAt = (path: number[]) => comments.get(path.join(",")) ?? "";
    const add = (e: Omit<Element, "page" | "comment">, path: number[]) =>
      elements.push({ ...e, page, comment: commentAt(path) });

    const walkEnum = (desc: EnumJson, scope: string, path: number[]) => {
      const fullName = `${scope}.${desc.name}`;
      add({ kind: "enum", fullName, section: anchorOf(fullName), links: [] }, path);
      (desc.value ?? []).forEach((v, i) =>
        add(
          { kind: "enum value", fullName: `${fullName}.${v.name}`, section: anchorOf(fullName), row: v.name, cells: [String(v.number)], links: [] },
          [...path, 2, i],
        ),
      );
    };
    const walkMessage = (desc: MessageJson, scope: string, path: number[]) => {
      if (desc.options?.mapEntry) return;
      const fullName = `${scope}.${desc.name}`;
      const section = anchorOf(fullName);
      add({ kind: "message", fullName, section, links: [] }, path);
      const fields = desc.field ?? [];
      fields.forEach((f, i) => {
        const mapEntry = (desc.nestedType ?? []).some((n) => n.options?.mapEntry && f.typeName === `.${fullName}.${n.name}`);
        const links = f.typeName !== undefined && !mapEntry ? [linkTo(f.typeName, pkg, packages)] : [];
        add(
          { kind: "field", fullName: `${fullName}.${f.name}`, section, row: f.name, cells: [String(f.number), `\`${f.jsonName}\``], links },
          [...path, 2, i],
        );
      });
      (desc.oneofDecl ?? []).forEach((o, i) => {
        const synthetic = fields.some((f) => f.oneofIndex === i && f.proto3Optional);
        if (!synthetic) add({ kind: "oneof", fullName: `${fullName}.${o.name}`, section, row: o.name, links: [] }, [...path, 8, i]);
      });
      (desc.nestedType ?? []).forEach((m, i) => walkMessage(m, fullName, [...path, 3, i]));
      (desc.enumType ?? []).forEach((e, i) => walkEnum(e, fullName, [...path, 4, i]));
    };

    (file.service ?? []).forEach((s, i) => {
      const fullName = `${pkg}.${s.name}`;
      add({ kind: "service", fullName, section: anchorOf(fullName), links: [] }, [6, i]);
      (s.method ?? []).forEach((m, j) => {
        const links = [linkTo(m.inputType, pkg, packages), linkTo(m.outputType, pkg, packages)];
        const facts = rpcFacts(m, commentAt([6, i, 2, j]));
        add({ kind: "rpc", fullName: `${fullName}.${m.name}`, section: anchorOf(`${fullName}.${m.name}`), links, facts }, [6, i, 2, j]);
      });
    });
    (file.messageType ?? []).forEach((m, i) => walkMessage(m, pkg, [4, i]));
    (file.enumType ?? []).forEach((e, i) => walkEnum(e, pkg, [5, i]));
  }
  return elements;
}

/** The gRPC status codes, in code order. */
const statusCodes =
  "OK CANCELLED UNKNOWN INVALID_ARGUMENT DEADLINE_EXCEEDED NOT_FOUND ALREADY_EXISTS PERMISSION_DENIED RESOURCE_EXHAUSTED FAILED_PRECONDITION ABORTED OUT_OF_RANGE UNIMPLEMENTED INTERNAL UNAVAILABLE DATA_LOSS UNAUTHENTICATED".split(
    " ",
  );

/** The lines an RPC's section must hold, from its descriptor and the codes its comment names. */
function rpcFacts(method: MethodJson, comment: string): string[] {
  const streaming = method.clientStreaming
    ? method.serverStreaming
      ? "bidirectional streaming"
      : "client streaming"
    : method.serverStreaming
      ? "server streaming"
      : "unary";
  const facts = [`- Streaming: ${streaming}`];
  const level = method.options?.idempotencyLevel;
  if (level !== undefined && level !== "IDEMPOTENCY_UNKNOWN") facts.push(`- Idempotency: \`${level}\``);
  const words = new Set(comment.split(/[^A-Z_]+/));
  const codes = statusCodes.filter((code) => words.has(code));
  if (codes.length > 0) facts.push(`- Codes: ${codes.map((c) => `\`${c}\``).join(", ")}`);
  return facts;
}

/** A comment as plain words: every run of whitespace one space. */
function plainComment(comment: string): string {
  return comment.replace(/\s+/g, " ").trim();
}

/** Rendered Markdown as the words a reader sees: fences, `<br>`, entities and escapes undone. */
function plainMarkdown(markdown: string): string {
  return markdown
    .replace(/^```(text)?$/gm, " ")
    .replaceAll("<br>", " ")
    .replaceAll("&nbsp;", " ")
    .replace(/\\([!-/:-@[-`{-~])/g, "$1")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replace(/\s+/g, " ")
    .trim();
}

/** The part of a page from an anchor to the next anchor; undefined when the anchor is absent. */
function sectionOf(page: string, anchor: string): string | undefined {
  const start = page.indexOf(`<a id="${anchor}"></a>`);
  if (start < 0) return undefined;
  const next = page.indexOf("<a id=", start + 1);
  return page.slice(start, next < 0 ? undefined : next);
}

/** The cells of the table row whose first cell is `name` in a section. */
function rowOf(section: string, name: string): string[] | undefined {
  const line = section.split("\n").find((l) => l.startsWith(`| \`${name}\` |`));
  return line
    ?.slice(2, -2)
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

/** Where an element is missing or wrong in the reference; empty when it is all there. */
function problemsOf(element: Element, pages: Map<string, string>): string[] {
  const page = pages.get(element.page);
  if (page === undefined) return [`no page ${element.page}`];
  const section = sectionOf(page, element.section);
  if (section === undefined) return [`no anchor #${element.section}`];
  let shown = section;
  if (element.row !== undefined) {
    const row = rowOf(section, element.row);
    if (row === undefined) return [`no row for ${element.row} in #${element.section}`];
    shown = row.join(" | ");
    for (const cell of element.cells ?? []) {
      if (!row.includes(cell)) return [`row lacks ${cell}: ${shown}`];
    }
  }
  const problems: string[] = [];
  if (!plainMarkdown(shown).includes(plainComment(element.comment))) problems.push("comment not shown as written");
  for (const link of element.links) {
    if (!shown.includes(`](${link})`)) problems.push(`no link to ${link}`);
  }
  for (const fact of element.facts ?? []) {
    if (!shown.split("\n").includes(fact)) problems.push(`no line "${fact}"`);
  }
  return problems;
}

/** Every Markdown link target on a page. */
function linksOn(page: string): string[] {
  return [...page.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? "");
}

describe("the API reference", () => {
  let scratch: string;
  let docs: string;
  const pages = new Map<string, string>();

  before(() => {
    scratch = mkdtempSync(join(tmpdir(), "moby-api-docs-"));
    const generated = run("buf", ["generate", "--template", "buf.gen.docs.yaml", "-o", scratch], repoRoot);
    assert.equal(generated.status, 0, generated.stderr);
    docs = join(scratch, "docs/api");
    for (const name of readdirSync(docs).sort()) pages.set(name, readFileSync(join(docs, name), "utf8"));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it("shows every element buf lint's COMMENTS rules see, with its comment", () => {
    const image = run("buf", ["build", "--exclude-imports", "-o", "-#format=json"], repoRoot);
    assert.equal(image.status, 0, image.stderr);
    const files = (JSON.parse(image.stdout) as { file: FileJson[] }).file;
    assert.ok(files.every((f) => f.package?.startsWith("moby.")), "the module holds only moby.* packages");
    const elements = contractElements(files);

    const counts = new Map<Kind, { total: number; shown: number }>();
    const missing: string[] = [];
    for (const element of elements) {
      const count = counts.get(element.kind) ?? { total: 0, shown: 0 };
      const problems = problemsOf(element, pages);
      count.total++;
      if (problems.length === 0) count.shown++;
      else missing.push(`${element.kind} ${element.fullName} (${element.page}): ${problems.join("; ")}`);
      counts.set(element.kind, count);
    }
    const shown = elements.length - missing.length;
    const table = [...counts].map(([kind, c]) => `${kind} ${c.shown}/${c.total}`).join(", ");
    console.log(`API reference coverage: ${shown}/${elements.length} elements (${table}) in ${files.length} files`);

    for (const kind of ["service", "rpc", "message", "field", "oneof", "enum", "enum value"] as Kind[]) {
      assert.ok((counts.get(kind)?.total ?? 0) > 0, `the contract has no ${kind}: the walk is broken`);
    }
    assert.ok(elements.every((e) => e.comment.trim() !== ""), "buf lint requires a comment on every element");
    assert.deepEqual(missing, []);
  });

  it("has a page per package, each listed in README.md", () => {
    const image = run("buf", ["build", "--exclude-imports", "-o", "-#format=json"], repoRoot);
    const packages = new Set((JSON.parse(image.stdout) as { file: FileJson[] }).file.map((f) => f.package ?? ""));
    const expected = [...packages].map((p) => `${p}.md`).sort();
    assert.deepEqual([...pages.keys()].filter((n) => n !== "README.md"), expected);
    const index = pages.get("README.md") ?? "";
    for (const page of expected) assert.ok(index.includes(`](${page})`), `README.md does not link ${page}`);
  });

  it("links only to pages and anchors that exist, and anchors each element once", () => {
    const committedDir = join(repoRoot, "docs/api");
    let internal = 0;
    const external = new Set<string>();
    const broken: string[] = [];
    for (const [name, page] of pages) {
      const ids = [...page.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]);
      assert.equal(new Set(ids).size, ids.length, `${name} has a duplicate anchor`);
      for (const link of linksOn(page)) {
        if (/^https?:\/\//.test(link)) {
          external.add(link);
          continue;
        }
        internal++;
        const [path = "", hash] = link.split("#");
        // Paths resolve as from docs/api in the repository; pages come from the fresh output.
        const target = path === "" ? join(committedDir, name) : resolve(committedDir, path);
        const inDocs = relative(committedDir, target);
        const targetText = inDocs.startsWith("..") ? undefined : pages.get(inDocs);
        if (inDocs.startsWith("..") ? !existsSync(target) : targetText === undefined) {
          broken.push(`${name}: ${link} (no such file)`);
        } else if (hash !== undefined && !(targetText ?? "").includes(`<a id="${hash}"></a>`)) {
          broken.push(`${name}: ${link} (no such anchor)`);
        }
      }
    }
    console.log(`API reference links: ${internal} internal checked, ${external.size} distinct external`);
    assert.deepEqual(broken, []);
    for (const link of external) {
      assert.match(link, /^https:\/\/(protobuf\.dev\/reference\/protobuf\/google\.protobuf\/(#[a-z]+)?|github\.com\/grpc\/grpc-proto\/)/);
    }
  });
});

describe("the API reference drift check", () => {
  const component = "proto/moby/component/v1/component.proto";

  it("rejects a proto comment changed without regenerating docs/api", () => {
    const copy = new ContractCopy();
    after(() => copy.remove());
    copy.replaceIn(component, "// The component API: what every", "// The component API, reworded: what every");
    const result = run("bash", ["scripts/check-generated.sh"], copy.dir);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /docs\/api does not match its protos: run 'npm run generate'/);
    assert.match(result.stdout, /moby\.component\.v1\.md/);
    assert.match(result.stdout, /The component API, reworded/);
  });

  it("rejects a hand edit of docs/api, and only docs/api", () => {
    const copy = new ContractCopy();
    after(() => copy.remove());
    copy.replaceIn("docs/api/moby.container.store.v1.md", "| `id` | 1 | `string` |", "| `id` | 1 | `bytes` |");
    const result = run("bash", ["scripts/check-generated.sh"], copy.dir);
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /docs\/api does not match/);
    assert.doesNotMatch(result.stderr, /gen does not match/);
    assert.match(result.stdout, /`bytes`/);
  });
});

