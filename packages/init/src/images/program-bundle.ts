/**
 * A component's JavaScript as one ESM file for its image: its entry and the
 * packages of its production closure bundled with esbuild, so that a start
 * reads and compiles one file instead of some 300 small modules (the SDK's
 * import alone took 340-430 ms as modules and 70-110 ms bundled on the
 * loaded 2-core machine; see bench/README.md, init-restart). Packages that
 * read their own files at run time stay packages under <app>/node_modules,
 * with every package they depend on, and the bundle imports them: a native
 * addon (a .node file), a package loading .proto files by path (etcd3,
 * grpc-js), a Bare prebuild (.bare). A source map goes beside the bundle and
 * Node runs it with --enable-source-maps, so a stack trace names the
 * packages' own files as it does without the bundle.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, posix, resolve } from "node:path";
import type { LayerEntry } from "@moby-core/oci-image";
import { packageEntries, productionClosure } from "./package-closure.js";
import type { ClosurePackage } from "./package-closure.js";

/** What bundleProgram needs. */
export interface ProgramBundleInput {
  /** The host path of the entry module (a bin, or any ESM file). */
  entry: string;
  /** The bundle's absolute path in the image, ending in .mjs; its source map goes beside it. */
  imagePath: string;
  /** The production closure of what the entry imports, as productionClosure placed it in the image. */
  closure: readonly ClosurePackage[];
  /** The directory whose node_modules holds the hoisted packages (the repository). */
  root: string;
  /** The image directory whose node_modules the closure was placed in (productionClosure's imageRoot). */
  appRoot: string;
  /** A directory the bundle and its map are written to, read when the layer is written; the caller removes it. */
  scratchDir: string;
}

/** A bundled program: its layer entries and the packages kept beside it. */
export interface BundledProgram {
  /** The bundle, its source map and the kept packages' files. */
  entries: LayerEntry[];
  /** The names of the packages imported from node_modules, not bundled. */
  external: string[];
}

/** Files a package reads by path at run time, which a bundle would leave behind. */
const RUNTIME_ASSET = /\.(node|proto|bare)$/;

/** Whether pkg must stay a package: it ships a file it loads by path at run time. */
export function keptAsPackage(pkg: ClosurePackage): boolean {
  return packageEntries(pkg).some((entry) => entry.type === "file" && RUNTIME_ASSET.test(entry.path));
}

/**
 * The idiom bundlers recognise for a worker thread started from a module
 * beside its caller: new Worker(new URL("./name.js", import.meta.url)).
 */
const WORKER_IDIOM = /new Worker\(\s*new URL\(\s*["']\.\/([\w.-]+\.js)["']\s*,\s*import\.meta\.url\s*\)/g;

/**
 * The worker modules the bundled files start with WORKER_IDIOM, by the file
 * name they use: in the bundle, import.meta.url is the bundle's, so each must
 * be bundled too and placed beside it under that name.
 */
export function workerModules(bundledFiles: readonly string[]): Map<string, string> {
  const workers = new Map<string, string>();
  for (const file of bundledFiles) {
    if (!file.endsWith(".js") && !file.endsWith(".mjs")) continue;
    for (const match of readFileSync(file, "utf8").matchAll(WORKER_IDIOM)) {
      const name = match[1]!;
      const path = join(dirname(file), name);
      const other = workers.get(name);
      if (other !== undefined && other !== path) throw new Error(`two bundled packages start a worker named ${name} (${other} and ${path}); the bundle can place only one beside it`);
      if (!existsSync(path)) throw new Error(`${file} starts a worker from ${name}, which is not beside it`);
      workers.set(name, path);
    }
  }
  return workers;
}

/** The first lines of the bundle: bundled CommonJS modules call require() for Node's built-ins. */
const REQUIRE_BANNER = 'import { createRequire as __mobyCreateRequire } from "node:module";\nconst require = __mobyCreateRequire(import.meta.url);';

/**
 * Bundles input.entry with esbuild into one ESM file (target Node 20) and a
 * linked source map; the packages keptAsPackage names, and every package
 * they depend on, are shipped as packages. Throws naming a kept package
 * that is not at the top of <app>/node_modules, where the bundle could not
 * resolve it, and esbuild's first error otherwise.
 */
export async function bundleProgram(input: ProgramBundleInput): Promise<BundledProgram> {
  const [, ...dependencies] = input.closure;
  const appModules = posix.join(input.appRoot, "node_modules");
  const kept = dependencies.filter(keptAsPackage);
  for (const pkg of kept) {
    if (pkg.imageDir !== posix.join(appModules, pkg.name)) {
      throw new Error(`${pkg.name} must stay a package (it loads files by path) but is nested at ${pkg.imageDir}, where the bundle cannot import it; dedupe it (npm dedupe)`);
    }
  }
  // A kept package brings everything it depends on, placed where the closure placed it.
  const shipped = new Map<string, ClosurePackage>();
  for (const pkg of kept) {
    for (const dependency of productionClosure(pkg.hostDir, input.root, input.appRoot)) {
      const placed = input.closure.find((p) => p.hostDir === dependency.hostDir);
      if (placed !== undefined) shipped.set(placed.hostDir, placed);
    }
  }
  const external = kept.map((pkg) => pkg.name);
  const { build } = await import("esbuild");
  // The output path names the bundle beside its entry, so the map's source paths do not depend on the scratch directory.
  const outfile = join(dirname(input.entry), basename(input.imagePath));
  const options = {
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    // The map names the packages' files and lines; their text is not needed for that and would triple the map Node reads at each start.
    sourcesContent: false,
    external: external.flatMap((name) => [name, `${name}/*`]),
    banner: { js: REQUIRE_BANNER },
    legalComments: "eof",
    write: false,
    logLevel: "silent",
    absWorkingDir: resolve(input.root),
  } as const;
  const result = await build({ ...options, entryPoints: [input.entry], outfile, metafile: true });
  const bundled = Object.keys(result.metafile.inputs).map((path) => (isAbsolute(path) ? path : resolve(input.root, path)));
  const workers = workerModules(bundled);
  // Each worker is a bundle of its own beside the program, under the name its caller uses (ESM: a package.json says so).
  const outputs = [...result.outputFiles];
  for (const [name, path] of workers) {
    const worker = await build({ ...options, entryPoints: [path], outfile: join(dirname(outfile), name) });
    outputs.push(...worker.outputFiles);
  }
  const entries: LayerEntry[] = [];
  mkdirSync(input.scratchDir, { recursive: true });
  if (workers.size > 0) {
    const host = join(input.scratchDir, "package.json");
    writeFileSync(host, JSON.stringify({ type: "module" }) + "\n");
    entries.push({ type: "file", path: posix.join(posix.dirname(input.imagePath), "package.json"), source: host, executable: false, size: statSync(host).size });
  }
  for (const file of outputs) {
    const name = basename(file.path);
    const host = join(input.scratchDir, name);
    writeFileSync(host, file.contents);
    entries.push({ type: "file", path: posix.join(posix.dirname(input.imagePath), name), source: host, executable: false, size: statSync(host).size });
  }
  for (const pkg of shipped.values()) entries.push(...packageEntries(pkg));
  return { entries, external };
}
