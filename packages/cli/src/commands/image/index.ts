/** The image commands, at the top of moby as docker's: pull, images, rmi, tag, image import|export. */
import type { Command } from "commander";
import type { SocketOf } from "../shared.js";
import { registerImageArchive } from "./archive.js";
import { registerImages } from "./images.js";
import { registerPull } from "./pull.js";

/** Adds the image commands to program. */
export function addImageCommands(program: Command, socketOf: SocketOf): void {
  for (const register of [registerPull, registerImages, registerImageArchive]) register(program, socketOf);
}
