/**
 * A component's image: an OCI image layout holding the Node runtime (the
 * running node binary and the shared libraries ldd says it loads), the host
 * programs the component's package.json names in "moby.image.tools" (with
 * their libraries), and the component's JavaScript: by default its bin
 * bundled into one file with a source map (program-bundle.ts: a start loads
 * one file, not hundreds), beside its package.json and the packages that
 * must stay packages; unbundled, its whole production closure under
 * /app/node_modules. Nothing else: no shell, no package manager. The same
 * inputs give the same image digest (see @moby-core/oci-image).
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, posix } from "node:path";
import { writeImageLayout } from "@moby-core/oci-image";
import type { LayerEntry, WrittenImage } from "@moby-core/oci-image";
import { packageEntries, productionClosure } from "./package-closure.js";
import { bundleProgram } from "./program-bundle.js";

/** Where a component's closure goes in its image. */
export const IMAGE_APP_ROOT = "/app";

/** What buildComponentImage wrote. */
export interface BuiltImage extends WrittenImage {
  /** The reference name in the layout, for example "moby-core/events:0.1.0". */
  refName: string;
  /** The layout directory. */
  layout: string;
  /** The sum of the layers' gzip bytes. */
  compressedBytes: number;
  /** The sum of the layers' tar bytes. */
  uncompressedBytes: number;
  /** The packages taken: the closure's, or when bundled those kept as packages beside the bundle. */
  packages: number;
  /** Whether the JavaScript is one bundled file. */
  bundled: boolean;
}

/** How a component image is built. */
export interface ComponentImageOptions {
  /** Bundle the component's JavaScript into one file (default true); false ships its production closure as packages. */
  bundle?: boolean;
}

interface ComponentPackageJson {
  name?: string;
  version?: string;
  bin?: Record<string, string> | string;
  moby?: { image?: { tools?: string[] } };
}

/** The absolute path of program, looked up in PATH when it has no "/". */
export function findProgram(program: string, path = process.env.PATH ?? ""): string {
  if (program.includes("/")) return program;
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error(`"${program}" was not found on PATH (${path}); install it or drop it from "moby.image.tools"`);
}

/** The shared libraries a program loads, as ldd lists them: absolute paths, the dynamic loader included. */
export function sharedLibraries(program: string): string[] {
  let output: string;
  try {
    output = execFileSync("ldd", [program], { encoding: "utf8" });
  } catch (error) {
    const text = String((error as { stdout?: unknown }).stdout ?? "") + String((error as { stderr?: unknown }).stderr ?? "");
    if (/not a dynamic executable/.test(text)) return [];
    throw new Error(`ldd ${program} failed: ${text.trim() || (error as Error).message}`);
  }
  const libraries: string[] = [];
  for (const line of output.split("\n")) {
    const match = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (match?.[1] !== undefined) libraries.push(match[1]);
    else if (/not found/.test(line)) throw new Error(`${program} needs ${line.trim()}`);
  }
  return libraries;
}

/** A host file copied into the image at the same path (its content: a symbolic link is followed). */
function hostFile(path: string): LayerEntry {
  const real = realpathSync(path);
  const stat = statSync(real);
  return { type: "file", path, source: real, executable: (stat.mode & 0o100) !== 0, size: stat.size };
}

/** Programs and every library they load, each once, at their host paths. */
export function programEntries(programs: readonly string[]): LayerEntry[] {
  const paths = new Set<string>();
  for (const program of programs) {
    paths.add(program);
    for (const library of sharedLibraries(program)) paths.add(library);
  }
  return [...paths].sort().map(hostFile);
}

/**
 * Builds the image of the component package in packageDir (installed under
 * root) as an OCI image layout at layout. Its entrypoint runs the package's
 * only bin (bundled unless options.bundle is false) with the node binary
 * running this build.
 */
export async function buildComponentImage(packageDir: string, root: string, layout: string, options: ComponentImageOptions = {}): Promise<BuiltImage> {
  const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as ComponentPackageJson;
  const name = manifest.name ?? "";
  const bins = typeof manifest.bin === "string" ? { [name]: manifest.bin } : (manifest.bin ?? {});
  const [bin, ...more] = Object.values(bins);
  if (bin === undefined || more.length > 0) throw new Error(`${name} (${packageDir}) must have exactly one "bin" to be a component image's entrypoint`);
  const node = realpathSync(process.execPath);
  const tools = (manifest.moby?.image?.tools ?? []).map((tool) => findProgram(tool));
  const bundled = options.bundle ?? true;

  const closure = productionClosure(packageDir, root, IMAGE_APP_ROOT);
  const packageImageDir = closure[0]!.imageDir;
  const layers: LayerEntry[][] = [programEntries([node])];
  if (tools.length > 0) layers.push(programEntries(tools).filter((entry) => !layers[0]!.some((known) => known.path === entry.path)));
  const scratch = mkdtempSync(join(tmpdir(), "moby-image-bundle-"));
  try {
    let entrypoint: string[];
    let packages = closure.length;
    if (bundled) {
      // One level below the package, as its dist/ is: a component finds its package.json at new URL("../package.json", import.meta.url).
      const program = posix.join(packageImageDir, "bundle", `${posix.basename(bin, posix.extname(bin))}.mjs`);
      const bundle = await bundleProgram({ entry: join(packageDir, bin), imagePath: program, closure, root, appRoot: IMAGE_APP_ROOT, scratchDir: scratch });
      const packageJson = join(packageDir, "package.json");
      layers.push([
        { type: "directory", path: "tmp" },
        { type: "file", path: posix.join(packageImageDir, "package.json"), source: packageJson, executable: false, size: statSync(packageJson).size },
        ...bundle.entries,
      ]);
      entrypoint = [node, "--enable-source-maps", program];
      packages = new Set(bundle.entries.filter((e) => e.path.includes("/node_modules/")).map((e) => packageOfPath(e.path))).size;
    } else {
      layers.push([{ type: "directory", path: "tmp" }, ...closure.flatMap(packageEntries)]);
      entrypoint = [node, posix.join(packageImageDir, bin)];
    }
    const refName = `moby-core/${name.replace(/^@moby-core\//, "")}:${manifest.version ?? "0.0.0"}`;
    const written = await writeImageLayout(layout, refName, layers, {
      entrypoint,
      cmd: [],
      env: ["PATH=/usr/local/bin:/usr/bin:/bin", "NODE_ENV=production"],
      workingDir: IMAGE_APP_ROOT,
      labels: { "org.opencontainers.image.title": name, "org.opencontainers.image.version": manifest.version ?? "" },
    });
    return {
      ...written,
      refName,
      layout,
      compressedBytes: written.layers.reduce((sum, layer) => sum + layer.size, 0),
      uncompressedBytes: written.layers.reduce((sum, layer) => sum + layer.tarSize, 0),
      packages,
      bundled,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The package directory of an image path under node_modules ("/app/node_modules/@a/b/x.js" -> "/app/node_modules/@a/b"), the last node_modules counting. */
function packageOfPath(path: string): string {
  const at = path.lastIndexOf("/node_modules/");
  const rest = path.slice(at + "/node_modules/".length).split("/");
  return path.slice(0, at + "/node_modules/".length) + rest.slice(0, rest[0]!.startsWith("@") ? 2 : 1).join("/");
}
