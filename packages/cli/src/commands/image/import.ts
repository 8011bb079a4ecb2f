/**
 * `moby import FILE|- [REPOSITORY[:TAG]]`, as `docker import`: a tarball of a
 * filesystem (tar or tar.gz) becomes an image with that one layer, its
 * config set by --change instructions; sent to the image store as an OCI
 * image layout, so the file may be on this machine while the store runs on
 * another.
 */
import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import type { Command } from "commander";
import { applyChange, describeLayer, imageConfig, layoutArchive, parsePlatform } from "../../filesystem-image.js";
import type { RunConfig } from "../../filesystem-image.js";
import { withImageService } from "../../image-client.js";
import { CliError } from "../../init-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import type { SocketOf } from "../shared.js";

/** What `moby import` takes besides the file and the name. */
export interface ImportFlags {
  /** docker's --change instructions, in order. */
  change: string[];
  /** The history comment. */
  message: string;
  /** "os/arch[/variant]"; empty: this machine's. */
  platform: string;
}

/** The most bytes sent per import message. */
const CHUNK_BYTES = 1024 * 1024;

/** Imports the filesystem tarball at path ("-": stdin, kept in a private temporary file while it is sent) as an image named name; prints its id. */
export async function importFilesystemCommand(initSocket: string, path: string, name: string, flags: ImportFlags, write: Write = writeStdout): Promise<number> {
  const config: RunConfig = {};
  for (const change of flags.change) applyChange(config, change);
  const platform = parsePlatform(flags.platform);
  if (path === "-" && process.stdin.isTTY) throw new CliError('refusing to read a tarball from a terminal: give a FILE or pipe one into "-"');
  const spool = path === "-" ? await mkdtemp(join(tmpdir(), "moby-import-")) : undefined;
  try {
    const file = spool === undefined ? path : join(spool, "layer");
    if (spool !== undefined) await pipeline(process.stdin, createWriteStream(file, { mode: 0o600 }));
    const layer = await describeLayer(file, path === "-" ? "stdin" : path);
    const archive = layoutArchive(layer, imageConfig(layer, { config, platform, message: flags.message, created: new Date() }));
    return await withImageService(initSocket, async (client) => {
      const requests = async function* () {
        yield { kind: { case: "header" as const, value: { name, platform: "" } } };
        for await (const chunk of archive) {
          for (let at = 0; at < chunk.length; at += CHUNK_BYTES) yield { kind: { case: "chunk" as const, value: chunk.subarray(at, at + CHUNK_BYTES) } };
        }
      };
      const { images } = await client.importImages(requests());
      for (const image of images) write(`${image.configDigest}\n`);
      return 0;
    });
  } finally {
    if (spool !== undefined) await rm(spool, { recursive: true, force: true });
  }
}

/** Adds `import` to command (moby's top level, and `moby image`). */
export function registerImport(command: Command, socketOf: SocketOf): void {
  command
    .command("import")
    .description("make an image from a tarball of a filesystem (tar or tar.gz), as docker import")
    .argument("<file>", 'the tarball; "-" reads stdin')
    .argument("[reference]", "the image's name, REPOSITORY[:TAG]; none: import-<id>:latest")
    .option("-c, --change <instruction>", "apply a Dockerfile instruction to the image's config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR (repeatable)", collect, [])
    .option("-m, --message <text>", "a comment for the image's history", "")
    .option("--platform <os/arch[/variant]>", "the platform the image is for (default: this machine's)", "")
    .action(async (file: string, reference: string | undefined, options: ImportFlags, command: Command) => {
      process.exitCode = await importFilesystemCommand(socketOf(command), file, reference ?? "", options);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
