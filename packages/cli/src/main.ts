/**
 * moby: the command line of a moby-core assembly, laid out as docker's:
 * the container verbs at the top (create, run, start, stop, restart, kill,
 * rm, ps, logs, exec, wait, inspect), the components under `moby component`
 * (ls, start, stop, restart, logs; `moby components` lists them too),
 * `moby events`, `moby version` and `moby metrics`. It talks to init on
 * `<run dir>/init.sock` and, through init's registry, to the components.
 *
 * Exit codes, as docker's: 0 on success; 125 for a usage error or when
 * init, a component or moby itself fails (the reason on stderr as
 * `moby: <message>`, one line); 1 when a component refused a request about
 * a named container or component (no such one, wrong state); `moby run` and
 * `moby exec` end with the exit code of the container's process (128 + the
 * signal when a signal ended it), 126 when it cannot be executed and 127
 * when it is not found.
 */
import { Command, CommanderError } from "commander";
import { defaultRunDir, initSocket } from "@moby-core/sdk/internal";
import { addComponentCommands } from "./commands/component/index.js";
import { addContainerCommands } from "./commands/container/index.js";
import { addImageCommands } from "./commands/image/index.js";
import { registerEvents } from "./commands/events/events.js";
import { registerMetrics } from "./commands/system/metrics.js";
import { CLI_VERSION, registerVersion } from "./commands/system/version.js";
import { stdoutReaderGone } from "./container-output.js";
import { EXIT_CLI_ERROR } from "./exit-codes.js";
import { CliError } from "./init-client.js";

/** The socket of init for the command being run, from the global --run-dir. */
function socketOf(command: Command): string {
  return initSocket(command.optsWithGlobals<{ runDir: string }>().runDir);
}

/** The commander program of moby, its actions writing to stdout. */
export function createProgram(): Command {
  const program = new Command("moby")
    .description("Show and control the containers and the components of a moby-core assembly, through moby-init.")
    .version(CLI_VERSION)
    .option(
      "--run-dir <dir>",
      "the assembly's run directory, where init serves on init.sock ($MOBY_RUN_DIR, else /run/moby for root, else $XDG_RUNTIME_DIR/moby)",
      defaultRunDir(),
    )
    // moby's own options come before the subcommand, as docker's, so that run and exec can pass a command's options through.
    .enablePositionalOptions()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, "moby: ")) })
    .showHelpAfterError("(run moby --help for usage)")
    .addHelpText("after", "\nExit codes: 0 ok; 1 a request refused (no such container, wrong state); 125 a usage error or a failure of moby, init or a component;\n126 the container's command cannot be executed; 127 it is not found; else the container's own exit code (run, exec).");
  addContainerCommands(program, socketOf);
  addImageCommands(program, socketOf);
  addComponentCommands(program, socketOf);
  registerEvents(program, socketOf);
  registerVersion(program, socketOf);
  registerMetrics(program, socketOf);
  return program;
}

/**
 * Runs moby with the given command-line arguments (without node and the
 * script) and sets process.exitCode (see the top of this file).
 */
export async function main(argv: string[]): Promise<void> {
  // The reader of stdout has gone (moby logs -f | head). `moby run` and
  // `moby exec` carry on without stdout, to remove the container (--rm) and
  // exit with its exit code (see attach.ts). Any other command ends
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
      // Commander has already written the message or the help; help asked for (moby help, --help, --version) is 0.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_CLI_ERROR;
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
