/**
 * A component's image: an OCI image layout holding the Node runtime (the
 * running node binary and the shared libraries ldd says it loads), the host
 * programs the component's package.json names in "moby.image.tools" (with
 * their libraries), and the component's production closure under
 * /app/node_modules. Nothing else: no shell, no package manager. The same
 * inputs give the same image digest (see @moby-core/oci-image).
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants, readFileSync, realpathSync, statSync } from "node:fs";
import { delimiter, join, posix } from "node:path";
import { writeImageLayout } from "@moby-core/oci-image";
import type { LayerEntry, WrittenImage } from "@moby-core/oci-image";
import { packageEntries, productionClosure } from "./package-closure.js";

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
  /** The packages taken. */
  packages: number;
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
 * only bin with the node binary running this build.
 */
export async function buildComponentImage(packageDir: string, root: string, layout: string): Promise<BuiltImage> {
  const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as ComponentPackageJson;
  const name = manifest.name ?? "";
  const bins = typeof manifest.bin === "string" ? { [name]: manifest.bin } : (manifest.bin ?? {});
  const [bin, ...more] = Object.values(bins);
  if (bin === undefined || more.length > 0) throw new Error(`${name} (${packageDir}) must have exactly one "bin" to be a component image's entrypoint`);
  const node = realpathSync(process.execPath);
  const tools = (manifest.moby?.image?.tools ?? []).map((tool) => findProgram(tool));

  const closure = productionClosure(packageDir, root, IMAGE_APP_ROOT);
  const layers: LayerEntry[][] = [programEntries([node])];
  if (tools.length > 0) layers.push(programEntries(tools).filter((entry) => !layers[0]!.some((known) => known.path === entry.path)));
  layers.push([{ type: "directory", path: "tmp" }, ...closure.flatMap(packageEntries)]);

  const refName = `moby-core/${name.replace(/^@moby-core\//, "")}:${manifest.version ?? "0.0.0"}`;
  const written = await writeImageLayout(layout, refName, layers, {
    entrypoint: [node, posix.join(IMAGE_APP_ROOT, "node_modules", name, bin)],
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
    packages: closure.length,
  };
}
