/** `moby images`, `moby rmi`, `moby tag`: list, delete and name images, as docker's. */
import type { Command } from "commander";
import type { Image } from "@moby-core/image-api/v1";
import { withImageService } from "../../image-client.js";
import { imagesJson, imagesTable } from "../../images-table.js";
import type { Write } from "../../write.js";
import { writeStdout } from "../../write.js";
import type { OutputFormat, SocketOf } from "../shared.js";
import { addFormatOptions, wantsJson, withTemplate } from "../shared.js";
import type { TemplateFormat } from "../../template-format.js";
import { renderTemplate } from "../../template-format.js";
import { TEMPLATE_HEADERS, imageObject } from "../../template-objects.js";

/** Lists every image matching filter (all pages): a table, JSON lines, or each image through template. */
export async function imagesCommand(initSocket: string, options: { json: boolean; filter: string; template?: TemplateFormat }, write: Write = writeStdout): Promise<number> {
  return withImageService(initSocket, async (client) => {
    const images: Image[] = [];
    let pageToken = "";
    do {
      const page = await client.listImages({ filter: options.filter, pageToken });
      images.push(...page.images);
      pageToken = page.nextPageToken;
    } while (pageToken !== "");
    const now = new Date();
    if (options.template !== undefined) write(renderTemplate(options.template, images.map((image) => imageObject(image, now)), { ...TEMPLATE_HEADERS, ID: "IMAGE ID" }));
    else write(options.json ? imagesJson(images) : imagesTable(images, now.getTime()));
    return 0;
  });
}

/** Deletes each image; prints what was untagged and deleted. */
export async function rmiCommand(initSocket: string, names: string[], force: boolean, write: Write = writeStdout): Promise<number> {
  return withImageService(initSocket, async (client) => {
    for (const name of names) {
      const deleted = await client.deleteImage({ name, force });
      for (const untagged of deleted.untagged) write(`Untagged: ${untagged}\n`);
      for (const blob of deleted.deletedBlobs) write(`Deleted: ${blob}\n`);
    }
    return 0;
  });
}

/** Names source's image target too. */
export async function tagCommand(initSocket: string, source: string, target: string): Promise<number> {
  return withImageService(initSocket, async (client) => {
    await client.tagImage({ source, target });
    return 0;
  });
}

/** Adds `images`, `rmi` and `tag` to program. */
export function registerImages(program: Command, socketOf: SocketOf): void {
  addFormatOptions(
    program.command("images").description("list images: REPOSITORY, TAG, IMAGE ID, CREATED, SIZE"),
    "one JSON object per image, per line",
    ".ID .Repository .Tag .Digest .CreatedAt .CreatedSince .Size",
  )
    .option("-f, --filter <filter>", 'a filter, for example name~="busybox" or labels.team==core', "")
    .action(async (options: { json?: boolean; format?: OutputFormat; filter: string }, command: Command) => {
      process.exitCode = await imagesCommand(socketOf(command), { json: wantsJson(options), filter: options.filter, ...withTemplate(options) });
    });
  program
    .command("rmi")
    .description("delete images (by name, id or short id) and free what nothing else uses")
    .argument("<image...>", "the images")
    .option("-f, --force", "delete even when a container's root filesystem uses the image")
    .action(async (names: string[], options: { force?: boolean }, command: Command) => {
      process.exitCode = await rmiCommand(socketOf(command), names, options.force === true);
    });
  program
    .command("tag")
    .description("give an image another name")
    .argument("<source>", "the image: a name, id or short id")
    .argument("<target>", 'the new name, with a tag, for example "localhost:5000/app:v2"')
    .action(async (source: string, target: string, _options: object, command: Command) => {
      process.exitCode = await tagCommand(socketOf(command), source, target);
    });
}
