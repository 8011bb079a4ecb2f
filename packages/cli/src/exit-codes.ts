/**
 * The exit codes of moby, as docker's CLI has them: 125 when moby itself
 * fails (a usage error, init or a component unreachable or failing), 126
 * when the container's command cannot be executed, 127 when it is not
 * found, 1 when a component refused a request about a named container (no
 * such container, or not in a state that allows it), and the container's
 * own exit code for `moby run` and `moby exec`.
 */

/** A usage error, or init, a component or moby itself failed. */
export const EXIT_CLI_ERROR = 125;

/** The container's command exists but cannot be executed (permission denied). */
export const EXIT_CANNOT_EXECUTE = 126;

/** The container's command was not found. */
export const EXIT_NOT_FOUND = 127;

/** A component refused a request about a named container (no such container, wrong state, bad value). */
export const EXIT_REFUSED = 1;

/**
 * The exit code of a failure to start a container's process, told from
 * runc's message the runtime passes on, as docker's daemon tells it
 * from runc's: `exec: "X": executable file not found in $PATH` or `stat X:
 * no such file or directory` is 127, `exec: "X": permission denied` 126;
 * undefined for any other message (runc did not get as far as exec).
 */
export function execFailureCode(message: string): number | undefined {
  const at = message.indexOf('exec: "');
  if (at < 0) return undefined;
  const tail = message.slice(at);
  if (/executable file not found|no such file or directory|not a directory/.test(tail)) return EXIT_NOT_FOUND;
  if (/permission denied|exec format error/.test(tail)) return EXIT_CANNOT_EXECUTE;
  return undefined;
}

/**
 * The exit code of a user or group name (--user) the container's
 * /etc/passwd or /etc/group does not have: 125, moby's own failure as
 * docker run's, told from the runtime's message in docker's words
 * ("unable to find user NAME: no matching entries in passwd file");
 * undefined for any other message.
 */
export function userLookupFailureCode(message: string): number | undefined {
  return /(^|: )unable to find (user|group) [^:]*: no matching entries in (passwd|group) file$/.test(message) ? EXIT_CLI_ERROR : undefined;
}
