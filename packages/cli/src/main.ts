/**
 * moby: the command line of a moby-core assembly. It talks to init's
 * supervisor API on `<run dir>/init.sock` to list, start, stop and restart
 * components and read their logs, and, through the components init's
 * registry names, runs containers: create, run, ps, kill, rm, exec, logs.
 *
 * Exit codes: 0 on success; 1 when init or a component cannot be reached or
 * refuses the request (the reason on stderr as `moby: <message>`); 2 for a
 * usage error. `moby run` (attached) and `moby exec` end with the exit code
 * of the container's process (128 + the signal when a signal ended it).
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { defaultRunDir, initSocket, notADurationMessage, parseDuration } from "@moby-core/sdk";
import { MAX_STOP_TIMEOUT_MS, listComponentsCommand, restartCommand, startCommand, stopCommand } from "./commands.js";
import { eventsCommand } from "./events-command.js";
import { parseUntil } from "./events-until.js";
import { CliError } from "./init-client.js";
import { addContainerCommands } from "./container-program.js";
import { stdoutReaderGone } from "./container-output.js";
import { logsDispatchCommand } from "./logs-command.js";
import type { LogsSource } from "./logs-command.js";

/** The exit code of a request init could not serve, or an unreachable init. */
export const EXIT_FAILURE = 1;

/** The exit code of a command line moby does not understand. */
export const EXIT_USAGE = 2;

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };

/** Parses a --timeout value: a duration of at most 10 minutes, in ms. */
export function parseTimeoutOption(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new InvalidArgumentError(notADurationMessage(text));
  if (ms > MAX_STOP_TIMEOUT_MS) throw new InvalidArgumentError(`${JSON.stringify(text)} is longer than the largest stop timeout, 10m`);
  return ms;
}

/** Parses a --tail value: a whole number of lines, 0 for all. */
export function parseTailOption(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 0xffff_ffff) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a number of lines`);
  return Number(text);
}

/** The socket of init for the command being run, from the global --run-dir. */
function socketOf(command: Command): string {
  return initSocket(command.optsWithGlobals<{ runDir: string }>().runDir);
}

/** The --timeout option of stop and restart. */
function timeoutOption(): Option {
  return new Option("--timeout <duration>", "how long to wait after SIGTERM before SIGKILL, e.g. 5s (default: the manifest's stop timeout)").argParser(
    parseTimeoutOption,
  );
}

/** Runs a streaming command until Ctrl-C (SIGINT) or SIGTERM, which end it quietly with exit code 0. */
async function untilInterrupted(run: (stop: AbortSignal) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await run(stop.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Streams the logs of a component or a container; when following, until the end or Ctrl-C or SIGTERM. */
async function runLogs(socketPath: string, name: string, options: { follow: boolean; tail: number; source?: LogsSource }): Promise<void> {
  if (!options.follow) return logsDispatchCommand(socketPath, name, options);
  await untilInterrupted((stop) => logsDispatchCommand(socketPath, name, { ...options, stop }));
}

/** Parses a --since value: a sequence number. */
export function parseSequenceOption(text: string): bigint {
  if (!/^\d+$/.test(text)) throw new InvalidArgumentError(`${JSON.stringify(text)} is not a sequence number`);
  return BigInt(text);
}

/** The commander program of moby, its actions writing to stdout. */
export function createProgram(): Command {
  const program = new Command("moby")
    .description("Show and control the components and the containers of a moby-core assembly, through moby-init.")
    .version(version)
    .option(
      "--run-dir <dir>",
      "the assembly's run directory, where init serves on init.sock ($MOBY_RUN_DIR, else /run/moby for root, else $XDG_RUNTIME_DIR/moby)",
      defaultRunDir(),
    )
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, "moby: ")) })
    .showHelpAfterError("(run moby --help for usage)");

  program
    .command("components")
    .description("list the components init supervises: state, health, pid, restarts, uptime, socket")
    .option("--json", "print a JSON array, one object per component (name, state, health, pid, restarts, uptimeSeconds, socket, requires, message, lastExit, startTime, readyTime)")
    .action((options: { json?: boolean }, command: Command) => listComponentsCommand(socketOf(command), { json: options.json === true }));

  program
    .command("start")
    .description("start a stopped or failed component (and reset its start limit)")
    .argument("<name>", "the component's name in the manifest")
    .action((name: string, _options: object, command: Command) => startCommand(socketOf(command), name));

  program
    .command("stop")
    .description("stop a component: SIGTERM, then SIGKILL after the timeout; init does not restart it until asked")
    .argument("<name>", "the component's name in the manifest")
    .addOption(timeoutOption())
    .action((name: string, options: { timeout?: number }, command: Command) =>
      stopCommand(socketOf(command), name, options.timeout === undefined ? {} : { timeoutMs: options.timeout }),
    );

  program
    .command("restart")
    .description("stop a component and start it again")
    .argument("<name>", "the component's name in the manifest")
    .addOption(timeoutOption())
    .action((name: string, options: { timeout?: number }, command: Command) =>
      restartCommand(socketOf(command), name, options.timeout === undefined ? {} : { timeoutMs: options.timeout }),
    );

  program
    .command("logs")
    .description("print the logs of a component (its captured output) or of a container (its process's output)")
    .argument("<name>", "a component's name in the manifest, or a container id")
    .option("-f, --follow", "keep printing new output until Ctrl-C (a container's: until its process has exited)")
    .option("-n, --tail <lines>", "print only the last <lines> kept lines first (0: all)", parseTailOption, 0)
    .addOption(new Option("--component", "<name> is a component: print its captured output").conflicts("container"))
    .addOption(new Option("--container", "<name> is a container: print its output"))
    .addHelpText(
      "after",
      `
Which logs: <name> is a component when the manifest declares it, and a
container when the container runtime has a task with that id. If it is only
one, moby prints its logs; if it is both, moby refuses and asks for
--component or --container, which choose without asking.
A component's stdout and stderr lines all go to stdout; a container's stdout
goes to stdout and its stderr to stderr, byte for byte.`,
    )
    .action((name: string, options: { follow?: boolean; tail: number; component?: boolean; container?: boolean }, command: Command) =>
      runLogs(socketOf(command), name, {
        follow: options.follow === true,
        tail: options.tail,
        ...(options.component === true ? { source: "component" as const } : options.container === true ? { source: "container" as const } : {}),
      }),
    );

  program
    .command("events")
    .description("print the assembly's events as they happen (sequence, time, source, topic, payload), until Ctrl-C or --until")
    .option("--filter <filter>", 'only events matching, e.g. topic~="^/containers/" or source==init,topic==/components/ready; repeat to OR', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option("--since <sequence>", "start after this sequence number (to resume where you stopped)", parseSequenceOption)
    .option("--oldest", "start from the oldest event kept")
    .option("--until <time>", 'stop at this time: "now" (the events so far), a date and time, or a duration ago (10m)', (text: string) => parseUntil(text))
    .option(
      "--json",
      'print one JSON object per event and line (the Envelope\'s proto3 JSON); a payload of a type moby does not know is {"@type": its type URL, "value": its bytes in base64}',
    )
    .action((options: { filter: string[]; since?: bigint; oldest?: boolean; until?: Date; json?: boolean }, command: Command) =>
      untilInterrupted((stop) =>
        eventsCommand(socketOf(command), {
          filters: options.filter,
          ...(options.since === undefined ? {} : { since: options.since }),
          oldest: options.oldest === true,
          json: options.json === true,
          ...(options.until === undefined ? {} : { until: options.until }),
          stop,
        }),
      ),
    );

  addContainerCommands(program, socketOf);

  return program;
}

/**
 * Runs moby with the given command-line arguments (without node and the
 * script) and sets process.exitCode: 0, 1 (EXIT_FAILURE) or 2 (EXIT_USAGE).
 */
export async function main(argv: string[]): Promise<void> {
  // The reader of stdout has gone (moby logs -f | head). `moby run` and
  // `moby exec` carry on without stdout, to remove the container (--rm) and
  // exit with its exit code (see run-command.ts). Any other command ends
  // quietly with the exit code so far, usually 0: docker's CLI is killed by
  // SIGPIPE (141 to the shell), which node ignores, and in a pipeline only
  // the last command's status counts (without pipefail) anyway.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    if (!stdoutReaderGone()) process.exit(process.exitCode ?? 0);
  });
  // The reader of stderr has gone (moby run ... 2>&1 | head): nothing to tell it; writes to it are dropped.
  process.stderr.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
  try {
    await createProgram().parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already written the message or the help.
      const asked = error.code === "commander.helpDisplayed" || error.code === "commander.version";
      process.exitCode = asked ? 0 : EXIT_USAGE;
      return;
    }
    if (error instanceof CliError) {
      process.stderr.write(`moby: ${error.message}\n`);
      process.exitCode = error.exitCode;
      return;
    }
    throw error;
  }
}
