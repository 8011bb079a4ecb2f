/**
 * `moby load [-i FILE]` and `moby save [-o FILE] IMAGE...`, as docker's: OCI
 * image layouts and docker save archives (tar, or tar.gz to load), streamed
 * to and from the image store, so the file may be on this machine while the
 * store runs on another.
 */
import { createReadStream, createWriteStream } from "node:fs";
import type { Writable } from "node:stream";
import type { Command } from "commander";
import { withImageService } from "../../image-client.js";
import { CliError } from "../../init-client.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import type { SocketOf } from "../shared.js";

/** The most bytes sent per import message. */
const CHUNK_BYTES = 1024 * 1024;

/** Loads the archive at path ("-": stdin); prints the names recorded. */
export async function loadCommand(initSocket: string, path: string, name: string, write: Write = writeStdout): Promise<number> {
  if (path === "-" && process.stdin.isTTY) throw new CliError("refusing to read an archive from a terminal: give -i FILE or pipe one in");
  const input = path === "-" ? process.stdin : createReadStream(path, { highWaterMark: CHUNK_BYTES });
  const opened = new Promise<void>((resolve, reject) => {
    if (path === "-") return resolve();
    input.once("open", () => resolve());
    input.once("error", (error: Error) => reject(new CliError(`cannot read ${path}: ${error.message}`)));
  });
  await opened;
  return withImageService(initSocket, async (client) => {
    const requests = async function* () {
      yield { kind: { case: "header" as const, value: { name, platform: "" } } };
      for await (const chunk of input) yield { kind: { case: "chunk" as const, value: chunk as Buffer } };
    };
    const { images } = await client.importImages(requests());
    for (const image of images) write(`Loaded image: ${image.name}\n`);
    return 0;
  });
}

/** Saves images to path ("-": stdout, which must not be a terminal). */
export async function saveCommand(initSocket: string, names: string[], path: string): Promise<number> {
  if (path === "-" && process.stdout.isTTY) throw new CliError("refusing to write an archive to a terminal: give -o FILE or redirect stdout");
  const output: Writable = path === "-" ? process.stdout : createWriteStream(path, { mode: 0o644 });
  return withImageService(initSocket, async (client) => {
    for await (const message of client.exportImage({ names })) {
      if (!output.write(message.chunk)) await new Promise((resolve) => output.once("drain", resolve));
    }
    if (path !== "-") await new Promise<void>((resolve, reject) => output.end((error?: Error | null) => (error ? reject(error) : resolve())));
    return 0;
  });
}

/** Adds `load` and `save` to command (moby's top level, and `moby image`). */
export function registerArchive(command: Command, socketOf: SocketOf): void {
  command
    .command("load")
    .description("load the images of an OCI image layout or docker save archive (tar or tar.gz)")
    .option("-i, --input <file>", 'the archive; "-" reads stdin', "-")
    .option("--name <reference>", "the name of an image the archive does not name", "")
    .action(async (options: { input: string; name: string }, command: Command) => {
      process.exitCode = await loadCommand(socketOf(command), options.input, options.name);
    });
  command
    .command("save")
    .description("write images as one archive, both an OCI image layout and a docker save archive")
    .argument("<image...>", "the images")
    .option("-o, --output <file>", 'the archive to write; "-" writes stdout, which must not be a terminal', "-")
    .action(async (names: string[], options: { output: string }, command: Command) => {
      process.exitCode = await saveCommand(socketOf(command), names, options.output);
    });
}
