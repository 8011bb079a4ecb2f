/**
 * The one rule for reading Node's errno codes out of an error: the codes of
 * its cause chain, and what a socket that answers with them means. The
 * SDK's transport, its retry policy and the CLI all decide with it.
 */

/** How deep a cause chain is followed. */
const MAX_CAUSES = 10;

/** The errno codes that mean nothing listens on a unix socket: no file, a file that is not a socket, or no listener. */
export const NOT_LISTENING: ReadonlySet<string> = new Set(["ECONNREFUSED", "ENOENT", "ENOTSOCK"]);

/** The errno codes that mean the socket is there but this user may not use it. */
export const NOT_ALLOWED: ReadonlySet<string> = new Set(["EACCES", "EPERM"]);

/** The string codes along error's cause chain (errno codes, Node's ERR_ codes), outermost first. */
export function errorCodes(error: unknown): string[] {
  const codes: string[] = [];
  for (let cause = error, depth = 0; cause instanceof Error && depth < MAX_CAUSES; cause = cause.cause, depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (typeof code === "string") codes.push(code);
  }
  return codes;
}

/** The first errno code (E and capitals, such as ECONNREFUSED) along error's cause chain, if any. */
export function errnoOf(error: unknown): string | undefined {
  return errorCodes(error).find((code) => /^E[A-Z]+$/.test(code));
}

/** The errno code along error's cause chain that says nothing listens on the socket, if any. */
export function notListeningErrno(error: unknown): string | undefined {
  return errorCodes(error).find((code) => NOT_LISTENING.has(code));
}
