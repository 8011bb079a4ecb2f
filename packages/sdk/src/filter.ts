/**
 * The one filter grammar of moby-core, containerd's:
 *
 *   filter    := selector ("," selector)*        comma means AND
 *   selector  := fieldpath [operator value]
 *   fieldpath := field ("." field)*              a field may be "double-quoted"
 *   operator  := "==" | "!=" | "~="
 *   value     := bare | "double-quoted"          bare: no whitespace and no ","
 *
 * A selector without an operator tests that the field is present (the
 * reader returns undefined for an absent field); "==" matches an equal present value; "!=" any other value, an absent
 * field included; "~=" a regular expression found anywhere in the value.
 * A filter is parsed once, then matched against many objects.
 */
import { InvalidArgumentError } from "./errors.js";

/** The longest filter accepted, in bytes of UTF-8. */
export const MAX_FILTER_LENGTH = 4096;

/** One selector of a filter. */
export interface Selector {
  /** The field path, for example ["labels", "app"]. */
  path: string[];
  /** The comparison; "present" when the selector has no operator. */
  operator: "present" | "==" | "!=" | "~=";
  /** The value compared with; empty for "present". */
  value: string;
  /** The compiled expression, for "~=". */
  regex?: RegExp;
}

/** A parsed filter: every selector must match. An empty filter matches everything. */
export interface Filter {
  selectors: Selector[];
}

/** Reads a field of an object by path; undefined when the field is absent. */
export type FieldReader = (path: string[]) => string | undefined;

/** The fields a filter may name: exact paths, or prefixes followed by a key of one or more parts (for example "labels"). */
export interface FilterFields {
  exact: string[];
  prefixes?: string[];
}

class Scanner {
  position = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.position >= this.text.length;
  }

  peek(length = 1): string {
    return this.text.slice(this.position, this.position + length);
  }

  skipSpaces(): void {
    while (!this.done && /\s/.test(this.peek())) this.position++;
  }

  /** A double-quoted string with Go-style escapes (\" \\ \n \t). */
  quoted(what: string): string {
    const start = this.position;
    this.position++;
    let out = "";
    while (!this.done && this.peek() !== '"') {
      let char = this.peek();
      if (char === "\\") {
        this.position++;
        const escaped = this.peek();
        char = escaped === "n" ? "\n" : escaped === "t" ? "\t" : escaped;
      }
      out += char;
      this.position++;
    }
    if (this.done) throw this.error(`unterminated quoted ${what} starting at ${start + 1}`);
    this.position++;
    return out;
  }

  error(message: string): Error {
    return new Error(message);
  }
}

/**
 * Compiles an RE2 expression (the filter grammar's ~=) as a JavaScript RegExp:
 * a leading (?flags) group becomes RegExp flags, (?P<name> a named group, and
 * what RE2 does not have (lookaround, backreferences) is refused.
 */
export function compileRe2(source: string): RegExp {
  let body = source;
  let flags = "";
  const lead = /^\(\?([imsU]+)\)/.exec(body);
  if (lead !== null) {
    if (lead[1]!.includes("U")) throw new Error("the U (ungreedy) flag is not supported");
    flags = [...new Set(lead[1]!)].join("");
    body = body.slice(lead[0].length);
  }
  body = body.replace(/\(\?P</g, "(?<");
  if (/\(\?<?[=!]/.test(body)) throw new Error("lookaround is not RE2 syntax");
  if (/\\[1-9]/.test(body)) throw new Error("backreferences are not RE2 syntax");
  return new RegExp(body, flags);
}

/** Parses a field path: identifiers or quoted parts joined by ".". */
function parsePath(scanner: Scanner): string[] {
  const path: string[] = [];
  for (;;) {
    scanner.skipSpaces();
    if (scanner.peek() === '"') {
      path.push(scanner.quoted("field"));
    } else {
      const match = /^[A-Za-z0-9_-]+/.exec(scanner.text.slice(scanner.position));
      if (match === null) throw scanner.error(`expected a field name at ${scanner.position + 1}`);
      path.push(match[0]);
      scanner.position += match[0].length;
    }
    if (scanner.peek() !== ".") return path;
    scanner.position++;
  }
}

/** Parses a value: quoted, /regex/ (for ~=), or bare up to a comma or whitespace. */
function parseValue(scanner: Scanner, operator: Selector["operator"]): string {
  scanner.skipSpaces();
  if (scanner.peek() === '"') return scanner.quoted("value");
  if (operator === "~=" && scanner.peek() === "/") {
    const end = scanner.text.indexOf("/", scanner.position + 1);
    if (end < 0) throw scanner.error(`unterminated /regex/ at ${scanner.position + 1}`);
    const value = scanner.text.slice(scanner.position + 1, end);
    scanner.position = end + 1;
    return value;
  }
  const match = /^[^\s,]+/.exec(scanner.text.slice(scanner.position));
  if (match === null) throw scanner.error(`expected a value at ${scanner.position + 1}`);
  scanner.position += match[0].length;
  return match[0];
}

/** Tells whether a path names an allowed field. */
function allowed(path: string[], fields: FilterFields): boolean {
  const joined = path.join(".");
  if (fields.exact.includes(joined)) return true;
  return path.length >= 2 && (fields.prefixes ?? []).includes(path[0]!);
}

/** Describes the allowed fields for an error message. */
function describeFields(fields: FilterFields): string {
  return [...fields.exact, ...(fields.prefixes ?? []).map((p) => `${p}.<key>`)].join(", ");
}

/**
 * Parses a filter, throwing InvalidArgumentError naming `field` (the request
 * field the filter came in) when it does not parse, is too long, names a
 * field not in fields, or holds an invalid regular expression.
 */
export function parseFilter(text: string, fields: FilterFields, field = "filter"): Filter {
  if (Buffer.byteLength(text) > MAX_FILTER_LENGTH) throw new InvalidArgumentError(field, `longer than ${MAX_FILTER_LENGTH} bytes`);
  if (text.trim() === "") return { selectors: [] };
  const scanner = new Scanner(text);
  const selectors: Selector[] = [];
  try {
    for (;;) {
      const path = parsePath(scanner);
      if (!allowed(path, fields)) {
        throw scanner.error(`unknown field ${JSON.stringify(path.join("."))}; the fields are ${describeFields(fields)}`);
      }
      scanner.skipSpaces();
      const operator = (["==", "!=", "~="] as const).find((op) => scanner.peek(2) === op);
      if (operator === undefined) {
        selectors.push({ path, operator: "present", value: "" });
      } else {
        scanner.position += 2;
        const value = parseValue(scanner, operator);
        const selector: Selector = { path, operator, value };
        if (operator === "~=") {
          try {
            selector.regex = compileRe2(value);
          } catch (error) {
            throw scanner.error(`invalid regular expression ${JSON.stringify(value)}: ${(error as Error).message}`);
          }
        }
        selectors.push(selector);
      }
      scanner.skipSpaces();
      if (scanner.done) return { selectors };
      if (scanner.peek() !== ",") throw scanner.error(`expected "," or the end at ${scanner.position + 1}`);
      scanner.position++;
    }
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    throw new InvalidArgumentError(field, `${(error as Error).message} in ${JSON.stringify(text)}`);
  }
}

/** Tells whether an object, read through read, matches every selector of filter. */
export function matchesFilter(filter: Filter, read: FieldReader): boolean {
  return filter.selectors.every((selector) => {
    const value = read(selector.path);
    switch (selector.operator) {
      case "present":
        return value !== undefined;
      case "==":
        return value === selector.value;
      case "!=":
        return value !== selector.value;
      case "~=":
        return value !== undefined && selector.regex!.test(value);
    }
  });
}
