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
 *
 * "~=" takes the common subset of RE2 and ECMAScript syntax and matches in
 * linear time with re2js (RE2's automata in plain JavaScript), so no pattern
 * can make a match backtrack: `^(a+)+$` against 41 characters costs ~1 µs,
 * where a JavaScript RegExp takes seconds. Each evaluation is bounded too:
 * a pattern compiles to at most MAX_PATTERN_PROGRAM_SIZE instructions, and
 * a value longer than MAX_MATCH_INPUT_LENGTH characters is never matched, so
 * one ~= test costs at most about their product in steps (~3 ms here; a few
 * µs for the patterns and values of everyday use).
 */
import { RE2JS } from "re2js";
import { InvalidArgumentError } from "./errors.js";
import { MAX_FILTER_LENGTH } from "./limits.js";


/** The most instructions a ~= pattern may compile to (RE2's program size); a larger one is refused. */
export const MAX_PATTERN_PROGRAM_SIZE = 512;

/**
 * The longest value, in UTF-16 code units, that "~=" tests; a longer value
 * does not match. Every field the reference components filter on is at most
 * 4096 bytes, so this bounds the work without changing any answer.
 */
export const MAX_MATCH_INPUT_LENGTH = 4096;

/** A compiled "~=" pattern: tells whether it is found anywhere in a value. */
export interface Pattern {
  /** Whether the pattern is found in text; false for a text longer than MAX_MATCH_INPUT_LENGTH. */
  test(text: string): boolean;
  /** The pattern as written. */
  readonly source: string;
}

/** One selector of a filter. */
export interface Selector {
  /** The field path, for example ["labels", "app"]. */
  path: string[];
  /** The comparison; "present" when the selector has no operator. */
  operator: "present" | "==" | "!=" | "~=";
  /** The value compared with; empty for "present". */
  value: string;
  /** The compiled expression, for "~=". */
  regex?: Pattern;
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
 * Compiles a "~=" expression: the common subset of RE2 and ECMAScript syntax,
 * with a leading (?flags) group of i, m and s, matched in linear time. What
 * only one of the two has is refused with an error saying what: lookaround
 * and backreferences (ECMAScript only), the U flag (RE2 only), a pattern
 * past MAX_PATTERN_PROGRAM_SIZE, and whatever RE2 does not parse.
 */
export function compileRe2(source: string): Pattern {
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(source);
  if (lead !== null) {
    if (lead[1]!.includes("U")) throw new Error("the U (ungreedy) flag is not supported");
    const unknown = lead[1]!.replace(/[ims]/g, "");
    if (unknown !== "") throw new Error(`unknown flag ${JSON.stringify(unknown[0])}; the flags are i, m and s`);
  }
  const body = lead === null ? source : source.slice(lead[0].length);
  if (/\(\?[a-zA-Z-]+[:)]/.test(body)) throw new Error("flags are taken only as a (?flags) group at the start");
  if (/\(\?<?[=!]/.test(source)) throw new Error("lookaround is not RE2 syntax");
  if (/\\[1-9]/.test(source)) throw new Error("backreferences are not RE2 syntax");
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source);
  } catch (error) {
    throw new Error((error as Error).message);
  }
  const size = compiled.programSize();
  if (size > MAX_PATTERN_PROGRAM_SIZE) {
    throw new Error(`too complex: it compiles to ${size} instructions, more than ${MAX_PATTERN_PROGRAM_SIZE}`);
  }
  return {
    source,
    test: (text) => text.length <= MAX_MATCH_INPUT_LENGTH && compiled.test(text),
  };
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
