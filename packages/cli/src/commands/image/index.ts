/**
 * The image commands, at the top of moby as docker's: pull, images, rmi,
 * tag, load, save, import; and load, save and import under `moby image` too.
 */
import type { Command } from "commander";
import type { SocketOf } from "../shared.js";
import { registerArchive } from "./archive.js";
import { registerImages } from "./images.js";
import { registerImport } from "./import.js";
import { registerPull } from "./pull.js";

/** Adds the image commands to program. */
export function addImageCommands(program: Command, socketOf: SocketOf): void {
  for (const register of [registerPull, registerImages, registerArchive, registerImport]) register(program, socketOf);
  const image = program.command("image").description("load, save and import images (also at the top level)");
  for (const register of [registerArchive, registerImport]) register(image, socketOf);
}
