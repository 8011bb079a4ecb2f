/**
 * The container record `moby create` and `moby run` store, made from their
 * options: a default OCI spec (the runtime's spec builder) running the
 * command in the rootfs, packed as the OciSpec the container-runtime runs,
 * with runtime "runc" and no image. And the way back: the command a stored
 * record runs, for `moby ps`.
 */
import { resolve } from "node:path";
import { create, fromBinary } from "@bufbuild/protobuf";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { OciSpecSchema, RestartMode, RuntimeOptionsSchema } from "@moby-core/container-runtime-api/v1";
import { OCI_SPEC_TYPE_URL } from "@moby-core/container-runtime";
import { buildOciSpec, packOciSpec } from "@moby-core/container-runtime/oci-spec-builder";
import type { OciLinuxResources, OciMount } from "@moby-core/container-runtime/oci-spec-builder";
import { ContainerSchema } from "@moby-core/container-store-api/v1";
import type { Container } from "@moby-core/container-store-api/v1";
import type { BindMount, RestartFlag, UserIds } from "./container-args.js";

/** The runtime name of the records moby makes (the container-runtime runs them with runc). */
export const RUNTIME_NAME = "runc";

/** What `moby create` and `moby run` make a container from. */
export interface ContainerOptions {
  /** The container id. */
  id: string;
  /** The rootfs directory on this node; made absolute against cwd. */
  rootfs: string;
  /** The program and its arguments. */
  args: string[];
  /** "NAME=VALUE" entries added to the default environment (PATH, TERM); a later NAME wins. */
  env: string[];
  /** The working directory inside the container; default "/". */
  workdir?: string;
  /** The user the program runs as; default root. */
  user?: UserIds;
  /** The record's labels. */
  labels: Record<string, string>;
  /** Host paths bind-mounted into the container, after the standard mounts. */
  mounts?: BindMount[];
  /** When the runtime restarts the container after it exits; default never. */
  restart?: RestartFlag;
  /** Resource limits (memory, CPU, pids), the spec's linux.resources. */
  resources?: OciLinuxResources;
  /** Keep the program's stdin open for attaching (-i). */
  interactive?: boolean;
  /** Run the program on a pseudo-terminal (-t), first sized as consoleSize. */
  tty?: boolean;
  /** The terminal's first size, with tty: moby's own terminal's. */
  consoleSize?: { height: number; width: number };
}

/** A bind mount as an OCI spec mount: type bind, rbind and rprivate (as docker's), ro or rw. */
export function ociBindMount(mount: BindMount): OciMount {
  return { destination: mount.target, type: "bind", source: mount.source, options: ["rbind", "rprivate", mount.readonly ? "ro" : "rw"] };
}

/**
 * The container record for options: spec = the default OCI spec with the
 * absolute rootfs, args, env, cwd, user, bind mounts and resource limits, packed as an Any of type
 * "type.googleapis.com/moby.container.runtime.v1.OciSpec"; runtime "runc",
 * with RuntimeOptions holding the restart policy when there is one; image ""
 * (the rootfs is named by the spec, not by an image); labels as given. cwd resolves a relative rootfs.
 */
export function containerRecord(options: ContainerOptions, cwd = process.cwd()): Container {
  const spec = buildOciSpec({
    rootfs: resolve(cwd, options.rootfs),
    args: options.args,
    env: options.env,
    ...(options.workdir === undefined ? {} : { cwd: options.workdir }),
    ...(options.user === undefined ? {} : { user: "name" in options.user ? { uid: 0, gid: 0, username: options.user.name } : options.user }),
    ...(options.mounts === undefined || options.mounts.length === 0 ? {} : { mounts: options.mounts.map(ociBindMount) }),
    ...(options.resources === undefined ? {} : { resources: options.resources }),
    ...(options.tty === true ? { terminal: true, ...(options.consoleSize === undefined ? {} : { consoleSize: options.consoleSize }) } : {}),
  });
  const init: MessageInitShape<typeof ContainerSchema> = {
    id: options.id,
    labels: { ...options.labels },
    image: "",
    runtime: {
      name: RUNTIME_NAME,
      ...(options.restart === undefined || options.restart.mode === RestartMode.NO
        ? {}
        : { options: anyPack(RuntimeOptionsSchema, create(RuntimeOptionsSchema, { restartPolicy: options.restart })) }),
    },
    spec: packOciSpec(spec),
  };
  return create(ContainerSchema, init);
}

/** The OCI runtime spec document a record holds (its OciSpec's JSON, parsed), or undefined when the spec is not an OciSpec or not JSON. */
export function specDocumentOf(container: Container | undefined): { [key: string]: unknown } | undefined {
  const spec = container?.spec;
  if (spec === undefined || spec.typeUrl !== OCI_SPEC_TYPE_URL) return undefined;
  try {
    const document: unknown = JSON.parse(new TextDecoder().decode(fromBinary(OciSpecSchema, spec.value).json));
    return typeof document === "object" && document !== null && !Array.isArray(document) ? (document as { [key: string]: unknown }) : undefined;
  } catch {
    return undefined;
  }
}

/** The program and arguments a record's spec runs (process.args), or [] when the spec is not an OciSpec or has none. */
export function commandOf(container: Container | undefined): string[] {
  const process = specDocumentOf(container)?.["process"] as { args?: unknown } | undefined;
  const args = process?.args;
  return Array.isArray(args) && args.every((arg) => typeof arg === "string") ? (args as string[]) : [];
}

/** An argument as a shell would need it: as is when plain, else in single quotes. */
export function quoteArg(arg: string): string {
  if (/^[A-Za-z0-9_\-.,:/@%+=]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * A command line on one line of at most width characters: the arguments
 * quoted as for a shell, control characters shown as escapes, and "..."
 * at the end when cut.
 */
export function shortCommand(args: readonly string[], width = 40): string {
  const line = args
    .map(quoteArg)
    .join(" ")
    .replace(/[\u0000-\u001f\u007f]/g, (c) => (c === "\n" ? "\\n" : c === "\t" ? "\\t" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`));
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 3))}...`;
}

