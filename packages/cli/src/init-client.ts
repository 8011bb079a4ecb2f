/**
 * The CLI's link to init: dial `<run dir>/init.sock`, make the calls of one
 * command, close, and turn any failure into a one-line CliError the user
 * can act on.
 */
import type { Client } from "@connectrpc/connect";
import { Code, ConnectError, dialSocket } from "@moby-core/sdk";
import { NOT_ALLOWED, NOT_LISTENING, errnoOf } from "@moby-core/sdk/internal";
import { SupervisorService } from "@moby-core/supervisor-api/v1";
import type { Component } from "@moby-core/supervisor-api/v1";
import { EXIT_CLI_ERROR, EXIT_REFUSED } from "./exit-codes.js";

/** The client of init's supervisor API. */
export type SupervisorClient = Client<typeof SupervisorService>;

/** A failure to report as `moby: <message>` on stderr, exiting with exitCode (125, moby's own failure, unless given). */
export class CliError extends Error {
  /** The process exit code to end with. */
  readonly exitCode: number;

  constructor(message: string, exitCode = EXIT_CLI_ERROR) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** The message for an init that does not answer on socketPath. */
export function unreachableMessage(socketPath: string): string {
  return `cannot reach init at ${socketPath}: is moby-init running? (set --run-dir or $MOBY_RUN_DIR)`;
}

/**
 * The CliError for a failed call to init on socketPath: "cannot reach init"
 * when nothing listens there, "permission denied" when the socket may not be
 * used, and otherwise init's own message (NOT_FOUND, FAILED_PRECONDITION,
 * INVALID_ARGUMENT, UNAVAILABLE while shutting down, ...). Exit code 1 for
 * a refusal (not found, failed precondition, invalid argument), else 125.
 */
export function translateError(error: unknown, socketPath: string): CliError {
  if (error instanceof CliError) return error;
  const errno = errnoOf(error);
  if (errno !== undefined && NOT_LISTENING.has(errno)) return new CliError(unreachableMessage(socketPath));
  if (errno !== undefined && NOT_ALLOWED.has(errno)) {
    return new CliError(`cannot reach init at ${socketPath}: permission denied (run as the user moby-init runs as, or set --run-dir)`);
  }
  const err = ConnectError.from(error);
  if (err.code === Code.DeadlineExceeded) return new CliError(`init did not answer in time: ${err.rawMessage}`);
  const refused = err.code === Code.NotFound || err.code === Code.FailedPrecondition || err.code === Code.InvalidArgument;
  return new CliError(err.rawMessage === "" ? Code[err.code] ?? "unknown error" : err.rawMessage, refused ? EXIT_REFUSED : EXIT_CLI_ERROR);
}

/**
 * Dials init on socketPath, runs use with a supervisor client, and closes
 * the connection. Calls are not retried: an unreachable init fails at once.
 * Any failure is rethrown as a CliError (see translateError).
 */
export async function withSupervisor<T>(socketPath: string, use: (supervisor: SupervisorClient) => Promise<T>): Promise<T> {
  const connection = dialSocket(socketPath, { retry: false });
  try {
    return await use(connection.client(SupervisorService));
  } catch (error) {
    throw translateError(error, socketPath);
  } finally {
    connection.close();
  }
}

/** Every component init supervises, in start order, following next_page_token to the last page. */
export async function listAllComponents(supervisor: SupervisorClient): Promise<Component[]> {
  const components: Component[] = [];
  let pageToken = "";
  for (let pages = 0; ; pages++) {
    if (pages >= 10_000) throw new CliError("init kept returning pages of components; giving up");
    const page = await supervisor.listComponents({ pageSize: 1_000, pageToken });
    components.push(...page.components);
    if (page.nextPageToken === "") return components;
    pageToken = page.nextPageToken;
  }
}
