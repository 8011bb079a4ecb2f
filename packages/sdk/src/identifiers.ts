/**
 * The identifier rule (containerd's pkg/identifiers): 1 to 76 ASCII letters
 * and digits, with ".", "_" or "-" only singly between two of them. An
 * identifier is one safe path element (never "." or "..", never a "/"), so a
 * path built from a checked one stays inside its directory.
 */
import { InvalidArgumentError } from "./errors.js";

/** The pattern an identifier matches. */
export const ID_PATTERN = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;
/** The longest identifier, in characters. */
export const MAX_ID_LENGTH = 76;

/** Whether text is an identifier. */
export function isId(text: string): boolean {
  return text.length <= MAX_ID_LENGTH && ID_PATTERN.test(text);
}

/** Checks a required identifier: INVALID_ARGUMENT naming field (the request field it came in) unless it is one. */
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

/** Checks an optional identifier: empty means unset, anything else must be an identifier. */
export function checkOptionalId(id: string, field: string): void {
  if (id !== "") checkId(id, field);
}
