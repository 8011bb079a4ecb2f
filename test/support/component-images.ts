/**
 * The images of the contained components (images/<component>, as
 * `npm run images` writes them and moby.contained.yaml names them), built
 * once for every suite of a test run: an image is built again only when its
 * inputs changed. The inputs are what buildComponentImage reads (the node
 * binary, the tools a package names, every file of the component's
 * production closure: path, size and modification time) and the code that
 * builds images; their digest is kept beside the layout.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readImageLayout } from "@moby-core/oci-image";
import { buildComponentImage, findProgram } from "../../packages/init/src/images/component-image.js";
import { packageEntries, productionClosure } from "../../packages/init/src/images/package-closure.js";
import { repoRoot } from "./contract-copy.js";

/** The components moby.contained.yaml runs from images. */
export const IMAGED_COMPONENTS = ["events", "container-store", "image-store"] as const;

/** The code that turns inputs into an image: a change to it changes every image. */
const BUILDER_SOURCES = [join(repoRoot, "packages/init/src/images"), join(repoRoot, "packages/oci-image/src")];

/** The layout directory of a component's image. */
export function imageLayout(name: string): string {
  return join(repoRoot, "images", name);
}

/** The file beside a layout that holds the digest of the inputs it was built from. */
function inputsFile(name: string): string {
  return join(repoRoot, "images", `${name}.inputs`);
}

/** The digest of what the image of the component in packages/<name> is built from. */
export function imageInputsDigest(name: string): string {
  const hash = createHash("sha256");
  const stamp = (path: string): void => {
    const stat = statSync(path);
    hash.update(`${path}\0${stat.size}\0${stat.mtimeMs}\n`);
  };
  const packageDir = join(repoRoot, "packages", name);
  const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { moby?: { image?: { tools?: string[] } } };
  stamp(realpathSync(process.execPath));
  for (const tool of manifest.moby?.image?.tools ?? []) stamp(realpathSync(findProgram(tool)));
  for (const dir of BUILDER_SOURCES) for (const file of readdirSync(dir).sort()) hash.update(readFileSync(join(dir, file)));
  for (const entry of productionClosure(packageDir, repoRoot).flatMap(packageEntries)) {
    if (entry.type === "file") stamp(entry.source);
    else hash.update(`${entry.type}\0${entry.path}\0${entry.type === "symlink" ? entry.target : ""}\n`);
  }
  return hash.digest("hex");
}

/** How each image was had: built (with the time it took) or reused. */
export interface ImagesReport {
  built: { name: string; ms: number }[];
  reused: string[];
}

/**
 * Makes sure images/<component> holds the current image of every contained
 * component: reuses a layout whose inputs are unchanged, builds the others.
 */
export async function ensureComponentImages(): Promise<ImagesReport> {
  const report: ImagesReport = { built: [], reused: [] };
  for (const name of IMAGED_COMPONENTS) {
    const digest = imageInputsDigest(name);
    const layout = imageLayout(name);
    if (existsSync(inputsFile(name)) && readFileSync(inputsFile(name), "utf8") === digest && layoutReadable(layout)) {
      report.reused.push(name);
      continue;
    }
    const started = Date.now();
    await buildComponentImage(join(repoRoot, "packages", name), repoRoot, layout);
    writeFileSync(inputsFile(name), digest);
    report.built.push({ name, ms: Date.now() - started });
  }
  return report;
}

/** Whether a whole image layout is at dir. */
function layoutReadable(dir: string): boolean {
  try {
    readImageLayout(dir);
    return true;
  } catch {
    return false;
  }
}
