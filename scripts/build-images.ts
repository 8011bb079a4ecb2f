/**
 * npm run images: builds the image of each reference component that can run
 * contained (events, container-store, image-store) as an OCI image layout
 * under images/<component>/, which moby.contained.yaml names and the
 * image-store can import. Nothing is downloaded: the node binary, its
 * libraries and node_modules come from this machine. Reports each image's
 * size against the node_modules it came from.
 *
 *   npm run images [-- component...]
 */
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { buildComponentImage } from "../packages/init/src/images/component-image.js";

const root = resolve(import.meta.dirname, "..");
const all = ["events", "container-store", "image-store"];
const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!all.includes(name)) {
    console.error(`npm run images: "${name}" is not a component with an image (one of: ${all.join(", ")})`);
    process.exit(2);
  }
}
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const nodeModulesBytes = Number(execFileSync("du", ["-sb", "--dereference-args", join(root, "node_modules")], { encoding: "utf8" }).split("\t")[0]);
for (const name of wanted.length > 0 ? wanted : all) {
  const started = Date.now();
  const image = await buildComponentImage(join(root, "packages", name), root, join(root, "images", name));
  console.log(
    `${image.refName} ${image.manifestDigest}: ${image.layers.length} layers, ${mib(image.compressedBytes)} compressed, ${mib(image.uncompressedBytes)} unpacked ` +
      `(${image.packages} packages; node_modules ${mib(nodeModulesBytes)}) in ${((Date.now() - started) / 1000).toFixed(1)} s -> ${image.layout}`,
  );
}
