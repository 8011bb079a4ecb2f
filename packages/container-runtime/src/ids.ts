/**
 * The id rule of container ids and exec ids (the container store's, which is
 * containerd's): 1 to 76 ASCII letters and digits with single ".", "_" or "-"
 * between them. Such an id is one safe path element (never "." or "..",
 * never a "/"), so every path built from one stays inside the runtime's
 * directory; ids are checked before any path is built.
 */
import { InvalidArgumentError } from "@moby-core/sdk";

/** The identifier rule. */
export const ID_PATTERN = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;
/** The longest identifier, in characters. */
export const MAX_ID_LENGTH = 76;

/** Tells whether text follows the id rule. */
export function isId(text: string): boolean {
  return text.length <= MAX_ID_LENGTH && ID_PATTERN.test(text);
}

/** Checks a required id; field is the request field it came in. */
export function checkId(id: string, field: string): void {
  if (id === "") throw new InvalidArgumentError(field, "required");
  if (id.length > MAX_ID_LENGTH) throw new InvalidArgumentError(field, `is ${id.length} characters, more than ${MAX_ID_LENGTH}`);
  if (!ID_PATTERN.test(id)) {
    throw new InvalidArgumentError(
      field,
      `${JSON.stringify(id)} is not an identifier: ASCII letters and digits, where ".", "_" and "-" appear only singly between two of them`,
    );
  }
}

/** Checks an optional id (empty means unset). */
export function checkOptionalId(id: string, field: string): void {
  if (id !== "") checkId(id, field);
}
