/**
 * Domain errors a component throws, and the one mapping from them (and from
 * anything else a handler throws) to canonical gRPC status codes.
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** An error with a canonical gRPC code; its message is sent to the caller as is. */
export class ComponentError extends Error {
  /** The canonical code the caller receives. */
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The named resource does not exist (NOT_FOUND). */
export class NotFoundError extends ComponentError {
  constructor(message: string) {
    super(Code.NotFound, message);
  }
}

/** The resource to create exists already (ALREADY_EXISTS). */
export class AlreadyExistsError extends ComponentError {
  constructor(message: string) {
    super(Code.AlreadyExists, message);
  }
}

/** A request field breaks its rule (INVALID_ARGUMENT); the message starts with the field's path. */
export class InvalidArgumentError extends ComponentError {
  /** The path of the offending field, for example "container.labels". */
  readonly field: string;

  constructor(field: string, reason: string) {
    super(Code.InvalidArgument, `${field}: ${reason}`);
    this.field = field;
  }
}

/** The system is not in a state the operation requires (FAILED_PRECONDITION). */
export class FailedPreconditionError extends ComponentError {
  constructor(message: string) {
    super(Code.FailedPrecondition, message);
  }
}

/** An expected revision or etag did not match (ABORTED); read again and retry. */
export class RevisionConflictError extends ComponentError {
  constructor(message: string) {
    super(Code.Aborted, message);
  }
}

/** A position (revision, sequence) is outside the valid range (OUT_OF_RANGE). */
export class OutOfRangeError extends ComponentError {
  constructor(message: string) {
    super(Code.OutOfRange, message);
  }
}

/** A limit or quota was exceeded (RESOURCE_EXHAUSTED). */
export class ResourceExhaustedError extends ComponentError {
  constructor(message: string) {
    super(Code.ResourceExhausted, message);
  }
}

/** The component cannot serve the call right now; a retry may succeed (UNAVAILABLE). */
export class UnavailableError extends ComponentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(Code.Unavailable, message, options);
  }
}

/** The message a caller sees for an error the component did not expect. */
export const INTERNAL_ERROR_MESSAGE = "internal error";

/**
 * Maps anything a handler throws to the ConnectError the caller receives:
 * a ConnectError as it is, a ComponentError with its code and message, an
 * abort with the code of its reason, and anything else as INTERNAL with a
 * fixed message, so no stack trace or internal detail reaches the caller.
 * `unexpected` tells whether the error was not one the component meant to send.
 */
export function toConnectError(error: unknown): { error: ConnectError; unexpected: boolean } {
  if (error instanceof ConnectError) return { error, unexpected: false };
  if (error instanceof ComponentError) {
    return { error: new ConnectError(error.message, error.code), unexpected: false };
  }
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) {
    const reason = (error as Error & { cause?: unknown }).cause;
    if (reason instanceof ConnectError) return { error: reason, unexpected: false };
    const code = error.name === "TimeoutError" ? Code.DeadlineExceeded : Code.Canceled;
    return { error: new ConnectError(error.message, code), unexpected: false };
  }
  return { error: new ConnectError(INTERNAL_ERROR_MESSAGE, Code.Internal), unexpected: true };
}
