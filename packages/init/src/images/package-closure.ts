/**
 * The production closure of an npm package: the package and every package
 * its dependencies (and peer and optional dependencies, where installed)
 * resolve to, found the way Node resolves them (node_modules directories
 * from the package's real directory upwards), each placed in the image so
 * that Node resolves them the same way there. Only what runs is taken: a
 * package's published files (package.json "files" when it has them), never
 * its node_modules, tests, sources maps, type declarations or docs, and of a
 * native addon (binding.gyp) only its JavaScript and build/Release/*.node.
 */
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import { dirname, join, posix, relative, sep } from "node:path";
import type { LayerEntry } from "@moby-core/oci-image";

/** One package of a closure. */
export interface ClosurePackage {
  /** Its name, for example "@moby-core/sdk". */
  name: string;
  /** Its real directory on this machine. */
  hostDir: string;
  /** Where it goes in the image, absolute. */
  imageDir: string;
}

interface PackageJson {
  name?: string;
  files?: string[];
  main?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as PackageJson;
}

/** File names never taken into an image: what does not run. */
const SKIPPED_FILE = /(\.d\.ts|\.d\.mts|\.d\.cts|\.map|\.tsbuildinfo|\.md|\.markdown|\.spec\.js|\.test\.js)$/i;
/**
 * Also skipped in a workspace package: the API packages' .proto sources and
 * buf image, for people's buf, which npm pack stages (so present or not
 * depending on whether a pack ran); their generated code carries the
 * descriptors. A third-party package's .proto files stay: etcd3 loads its own.
 */
const SKIPPED_WORKSPACE_FILE = /\.(proto|binpb)$/i;
/** Directory names never taken. */
const SKIPPED_DIR = new Set(["node_modules", ".git", "test", "tests", "__tests__", ".github", "docs", "example", "examples"]);

/**
 * The packages of the closure of the package in packageDir, installed under
 * root (the directory whose node_modules holds the hoisted packages); the
 * package itself goes to <imageRoot>/node_modules/<name>. Throws naming a
 * dependency that is not installed.
 */
export function productionClosure(packageDir: string, root: string, imageRoot = "/app"): ClosurePackage[] {
  const rootReal = realpathSync(root);
  const first = realpathSync(packageDir);
  const firstName = readPackageJson(first).name ?? "";
  const closure: ClosurePackage[] = [{ name: firstName, hostDir: first, imageDir: posix.join(imageRoot, "node_modules", firstName) }];
  const seen = new Set([first]);

  /** The image directory of a host directory holding a node_modules: root, or inside a package of the closure. */
  const imageDirOf = (hostDir: string): string | undefined => {
    if (hostDir === rootReal) return imageRoot;
    const owner = closure.find((p) => hostDir === p.hostDir || hostDir.startsWith(p.hostDir + sep));
    return owner === undefined ? undefined : posix.join(owner.imageDir, ...relative(owner.hostDir, hostDir).split(sep).filter(Boolean));
  };

  for (let i = 0; i < closure.length; i++) {
    const from = closure[i]!;
    const manifest = readPackageJson(from.hostDir);
    const wanted = [
      ...Object.keys(manifest.dependencies ?? {}).map((name) => ({ name, required: true })),
      ...Object.keys(manifest.optionalDependencies ?? {}).map((name) => ({ name, required: false })),
      ...Object.keys(manifest.peerDependencies ?? {}).map((name) => ({ name, required: false })),
    ];
    for (const { name, required } of wanted) {
      let found: { parent: string; dir: string } | undefined;
      for (let dir = from.hostDir; ; dir = dirname(dir)) {
        const candidate = join(dir, "node_modules", name);
        if (existsSync(join(candidate, "package.json"))) {
          found = { parent: dir, dir: candidate };
          break;
        }
        if (dirname(dir) === dir) break;
      }
      if (found === undefined) {
        if (required) throw new Error(`${from.name} depends on ${name}, which is not installed under ${from.hostDir} or any directory above it (run npm install)`);
        continue;
      }
      const real = realpathSync(found.dir);
      if (seen.has(real)) continue;
      seen.add(real);
      const parentImage = imageDirOf(found.parent);
      if (parentImage === undefined) throw new Error(`${name} is installed at ${found.dir}, outside ${root} and the packages taken, so it has no place in the image`);
      closure.push({ name, hostDir: real, imageDir: posix.join(parentImage, "node_modules", name) });
    }
  }
  return closure;
}

/** Whether the file at path is executable by its owner. */
function executable(mode: number): boolean {
  return (mode & 0o100) !== 0;
}

/** The files of one package that run, as layer entries under its image directory. */
export function packageEntries(pkg: ClosurePackage): LayerEntry[] {
  const manifest = readPackageJson(pkg.hostDir);
  const native = existsSync(join(pkg.hostDir, "binding.gyp"));
  const workspace = !pkg.hostDir.split(sep).includes("node_modules");
  const entries: LayerEntry[] = [];
  // The top-level names "files" lets npm publish, as patterns on their first segment; npm always
  // publishes package.json, the main file and index.js, whatever "files" says.
  const top =
    manifest.files === undefined || native
      ? undefined
      : ["package.json", "index.js", (manifest.main ?? "index.js").replace(/^\.\//, ""), ...manifest.files.filter((f) => !f.startsWith("!"))].map(
          (pattern) => new RegExp(`^${pattern.replace(/^\.\//, "").split("/")[0]!.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*+/g, "[^/]*")}$`),
        );
  const walk = (dir: string, relativeDir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const host = join(dir, name);
      const rel = relativeDir === "" ? name : `${relativeDir}/${name}`;
      if (relativeDir === "" && top !== undefined && !top.some((pattern) => pattern.test(name)) && !/^(license|licence)/i.test(name)) continue;
      if (native && relativeDir === "" && ["deps", "src", "binding.gyp"].includes(name)) continue;
      if (native && relativeDir === "build" && name !== "Release") continue;
      if (native && relativeDir === "build/Release" && !name.endsWith(".node")) continue;
      const stat = lstatSync(host);
      const path = posix.join(pkg.imageDir, rel);
      if (stat.isDirectory()) {
        if (SKIPPED_DIR.has(name)) continue;
        walk(host, rel);
      } else if (stat.isSymbolicLink()) {
        entries.push({ type: "symlink", path, target: readlinkSync(host) });
      } else if (stat.isFile()) {
        if (SKIPPED_FILE.test(name) || (workspace && SKIPPED_WORKSPACE_FILE.test(name))) continue;
        entries.push({ type: "file", path, source: host, executable: executable(stat.mode), size: stat.size });
      }
    }
  };
  walk(pkg.hostDir, "");
  return entries;
}
