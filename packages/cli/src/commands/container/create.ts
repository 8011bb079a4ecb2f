/**
 * `moby create`: a container record in the container store (a default OCI
 * spec running the command in a rootfs, with the flags' env, workdir, user,
 * bind mounts and resource limits), then its task in the runtime (created, not started).
 * Also the options create and run share.
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { OciLinuxResources } from "@moby-core/container-runtime/oci-spec-builder";
import { collectEnv, collectLabel, collectMount, collectVolume, newContainerId, parseContainerId, parseRestart, parseUser, parseWorkdir } from "../../container-args.js";
import type { BindMount, RestartFlag, UserIds } from "../../container-args.js";
import type { ContainerServices } from "../../container-client.js";
import { withContainerServices } from "../../container-client.js";
import { containerRecord } from "../../container-spec.js";
import type { ContainerOptions } from "../../container-spec.js";
import { EXIT_CLI_ERROR, EXIT_REFUSED } from "../../exit-codes.js";
import { imageContainerRecord } from "../../image-spec.js";
import { CliError } from "../../init-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import { addResourceOptions, ociResourcesOf, resourcesOf } from "../../resource-options.js";
import type { ResourceFlags } from "../../resource-options.js";
import type { SocketOf } from "../shared.js";

/** What `moby create` makes a container from; without an id, moby makes one up ("c-" and 8 hex digits). */
export type CreateOptions = Omit<ContainerOptions, "id"> & { id?: string; /** The image to make the container from, instead of rootfs. */ image?: string };

/** The usage-error hint of the commands that take a command line. */
export const DASH_DASH_HINT = "(moby's options come before the image or the command; what follows it is the command's own, as docker's: moby run IMAGE sh -c 'echo hello'; run moby --help for usage)";

/** Whether path is a directory or a file (what), or false when missing. */
function kindOf(path: string): "directory" | "other" | false {
  try {
    return statSync(path).isDirectory() ? "directory" : "other";
  } catch {
    return false;
  }
}

/** The absolute rootfs; a CliError when it is not a directory on this node. */
export function checkRootfs(rootfs: string, cwd = process.cwd()): string {
  const path = resolve(cwd, rootfs);
  if (kindOf(path) !== "directory") throw new CliError(`rootfs ${path} is not a directory: give --rootfs a directory on this node`);
  return path;
}

/** A CliError when the source of a bind mount does not exist on this node (docker's --mount rule; moby's -v too). */
export function checkMountSources(mounts: readonly BindMount[]): void {
  for (const mount of mounts) {
    if (kindOf(mount.source) === false) throw new CliError(`bind source ${mount.source} does not exist on this node: create it first (it is mounted at ${mount.target})`);
  }
}

/**
 * Stores the container record and creates its task (STATUS_CREATED);
 * returns the id. When the runtime refuses the task, the record is deleted
 * again, so the same --name can be used once the cause is fixed.
 */
export async function createContainer(services: ContainerServices, options: CreateOptions): Promise<string> {
  const rootfs = options.image === undefined ? checkRootfs(options.rootfs) : "";
  checkMountSources(options.mounts ?? []);
  const id = options.id ?? newContainerId();
  const store = await services.store();
  const runtime = await services.runtime();
  const record = options.image === undefined ? containerRecord({ ...options, id, rootfs }) : imageContainerRecord({ ...options, id }, options.image);
  await store.createContainer({ container: record });
  try {
    await runtime.createTask({ containerId: id, stdin: options.interactive === true });
  } catch (error) {
    await store.deleteContainer({ id }).catch(() => undefined);
    throw error;
  }
  return id;
}

/**
 * A failure of create or run with docker run's exit code: 126 or 127 when
 * the command cannot be executed or is not there, else 125 (docker run
 * exits 125 for every error of the daemon, a refusal included).
 */
export function asRunFailure(error: CliError): CliError {
  return error.exitCode === EXIT_REFUSED ? new CliError(error.message, EXIT_CLI_ERROR) : error;
}

/** `moby create`: stores the container, creates its task, prints the id. */
export async function createCommand(initSocket: string, options: CreateOptions, write: Write = writeStdout): Promise<void> {
  try {
    write(`${await withContainerServices(initSocket, (services) => createContainer(services, options))}\n`);
  } catch (error) {
    throw error instanceof CliError ? asRunFailure(error) : error;
  }
}

/** The options `moby create` and `moby run` share, as commander hands them over. */
export interface ContainerFlags extends ResourceFlags {
  rootfs?: string;
  name?: string;
  env?: string[];
  workdir?: string;
  user?: UserIds;
  label?: Record<string, string>;
  volume?: BindMount[];
  mount?: BindMount[];
  restart?: RestartFlag;
  interactive?: boolean;
  tty?: boolean;
}

/** Adds the options of create and run to command: what to run, where, as whom, with which labels, mounts and resource limits. */
export function addContainerOptions(command: Command): Command {
  const described = command
    .usage("[options] IMAGE [COMMAND [ARG...]]  |  [options] --rootfs DIR COMMAND [ARG...]")
    .showHelpAfterError(DASH_DASH_HINT)
    // As docker's: options after the image (or, with --rootfs, the command's first word) are the command's own.
    .passThroughOptions()
    .option("--rootfs <dir>", "the root filesystem: a directory on this node (made absolute), used in place; without it the first argument is an IMAGE (pull it first) and the rest its COMMAND")
    .option("--name <id>", 'the container id (letters, digits and single "._-" between them; default: c- and 8 random hex digits)', parseContainerId)
    .option("-e, --env <KEY=VALUE>", "set an environment variable (repeat; PATH and TERM have defaults)", collectEnv)
    .option("-w, --workdir <dir>", "the working directory inside the container (default: /)", parseWorkdir)
    .option("-u, --user <user[:group]>", "run as this user and group: NAME, UID, NAME:GROUP or UID:GID, names from the rootfs's (or image's) /etc/passwd and /etc/group (default: 0:0, or the image's User; without a group: the user's primary group from /etc/passwd, 0 for a UID it does not have)", parseUser)
    .option("-l, --label <KEY=VALUE>", "set a label on the container record (repeat)", collectLabel)
    .option("-v, --volume <SRC:DST[:ro]>", "bind-mount the host path SRC at DST (repeat; :ro read-only)", collectVolume)
    .option("--mount <type=bind,source=SRC,target=DST[,readonly]>", "bind-mount a host path, docker's long form (repeat)", collectMount)
    .option("--restart <policy>", "restart the container when it exits: no (default), on-failure[:max-retries], always or unless-stopped", parseRestart)
    .option("-i, --interactive", "keep the program's stdin open: moby's stdin goes to it while attached")
    .option("-t, --tty", "run the program on a pseudo-terminal (with -i: an interactive shell, as docker run -it)");
  return addResourceOptions(described).argument("<command...>", "IMAGE [COMMAND [ARG...]], or with --rootfs COMMAND [ARG...]; options after the first of them are the command's own");
}

/** The create options of a command line. */
export function createOptionsOf(args: string[], flags: ContainerFlags): CreateOptions {
  const fromImage = flags.rootfs === undefined;
  return {
    rootfs: flags.rootfs ?? "",
    args: fromImage ? args.slice(1) : args,
    ...(fromImage ? { image: args[0] } : {}),
    env: flags.env ?? [],
    labels: flags.label ?? {},
    mounts: [...(flags.volume ?? []), ...(flags.mount ?? [])],
    ...(flags.name === undefined ? {} : { id: flags.name }),
    ...(flags.workdir === undefined ? {} : { workdir: flags.workdir }),
    ...(flags.user === undefined ? {} : { user: flags.user }),
    ...(flags.restart === undefined ? {} : { restart: flags.restart }),
    ...withResources(ociResourcesOf(resourcesOf(flags))),
    ...(flags.interactive === true ? { interactive: true } : {}),
    ...(flags.tty === true ? { tty: true, ...terminalSize() } : {}),
  };
}

/** The resources part of the create options: none when no limit is set. */
function withResources(resources: OciLinuxResources | undefined): { resources?: OciLinuxResources } {
  return resources === undefined ? {} : { resources };
}

/** The size of moby's own terminal as a spec's consoleSize, when stdout is one. */
function terminalSize(): { consoleSize?: { height: number; width: number } } {
  const { rows, columns, isTTY } = process.stdout;
  return isTTY === true && rows > 0 && columns > 0 ? { consoleSize: { height: rows, width: columns } } : {};
}

/** What the record of `moby create` and `moby run` holds, for their help. */
export const RECORD_HELP = `
IMAGE is an image of the image store (moby pull, load or import it first):
its Entrypoint, Cmd, Env, WorkingDir and User fill what the command line
leaves unset, as docker run's; with --rootfs DIR the root filesystem is
that directory, used in place, and COMMAND is required.
The container record (moby.container.store.v1) gets: the id; a default OCI
spec (own pid, ipc, uts, mount and network namespaces, no terminal) running
the command with the env, workdir, user, bind mounts and limits given,
packed as type.googleapis.com/moby.container.runtime.v1.OciSpec;
runtime "runc", with the --restart policy in its options
(type.googleapis.com/moby.container.runtime.v1.RuntimeOptions); the image
("" with --rootfs, where the spec names the root filesystem); the labels.
--restart as docker's: the runtime restarts the container when it exits
(on-failure: with a non-zero code, at most max-retries times), waiting 100 ms
before the first restart and twice as long before each next one (at most
1 minute; 100 ms again after a run of 10 s). moby stop or kill stops it for
good; unless-stopped keeps it stopped when the runtime restarts, always
starts it again then.`;

/** Adds `create` to program. */
export function registerCreate(program: Command, socketOf: SocketOf): void {
  addContainerOptions(program.command("create").description("store a container record and create its task (not started); print its id"))
    .addHelpText("after", RECORD_HELP)
    .action((args: string[], flags: ContainerFlags, command: Command) => createCommand(socketOf(command), createOptionsOf(args, flags)));
}
