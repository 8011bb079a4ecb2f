/**
 * Puts the contract an API package was generated from into that package, so
 * it ships with the code: run by each API package's `prepack` from the
 * package's own directory, after the build.
 *
 * - `proto/`: the package's .proto sources at their import paths (for example
 *   `proto/moby/container/store/v1/container.proto`), for a downstream proto
 *   that imports them and for proto-loader users.
 * - `image.binpb`: a buf image of those files with everything they import,
 *   for `buf breaking --against node_modules/@moby-core/<api>/image.binpb`.
 *
 * Which protos belong to a package follows from its `./vN` entry points; where
 * they come from follows from the inputs of the repository's buf.gen.yaml (our
 * proto/ and the npm packages that ship the standard gRPC protos).
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Where a package keeps its shipped .proto sources. */
const SHIPPED_PROTO_DIR = "proto";
/** The file name of a package's shipped buf image. */
const SHIPPED_IMAGE = "image.binpb";

interface PackageJson {
  name: string;
  exports?: Record<string, unknown>;
}

/** The proto directories (`moby/component/v1`) an API package's `./vN` entry points were generated from. */
function protoDirsOf(pkg: PackageJson): string[] {
  const dirs: string[] = [];
  for (const [entry, target] of Object.entries(pkg.exports ?? {})) {
    if (!/^\.\/v\d+$/.test(entry)) continue;
    const file = (target as { default?: string }).default ?? "";
    const match = /^\.\/dist\/(.+)\/index\.js$/.exec(file);
    if (!match?.[1]) throw new Error(`${pkg.name}: entry point ${entry} is not ./dist/<proto dir>/index.js`);
    dirs.push(match[1]);
  }
  if (dirs.length === 0) throw new Error(`${pkg.name}: no ./vN entry point names its proto package`);
  return dirs;
}

/** The source directories buf.gen.yaml generates from, relative to the repository root. */
function protoRoots(): string[] {
  const template = parse(readFileSync(join(repoRoot, "buf.gen.yaml"), "utf8")) as { inputs?: { directory?: string }[] };
  return (template.inputs ?? []).flatMap((input) => (input.directory ? [input.directory] : []));
}

/** The source root that holds protoDir, or an error naming where it looked. */
function rootOf(protoDir: string, roots: string[]): string {
  const root = roots.find((r) => existsSync(join(repoRoot, r, protoDir)));
  if (!root) throw new Error(`no input of buf.gen.yaml holds ${protoDir} (looked in ${roots.join(", ")})`);
  return root;
}

/** Copies the .proto files of protoDir from root into the package's proto/. */
function copyProtos(packageDir: string, root: string, protoDir: string): void {
  const from = join(repoRoot, root, protoDir);
  const to = join(packageDir, SHIPPED_PROTO_DIR, protoDir);
  mkdirSync(to, { recursive: true });
  for (const file of readdirSync(from).filter((f) => f.endsWith(".proto"))) {
    cpSync(join(from, file), join(to, file));
  }
}

/** Builds the package's image: its files plus their imports, with comments. */
function buildImage(packageDir: string, root: string, protoDirs: string[]): void {
  const buf = join(repoRoot, "node_modules/.bin/buf");
  const paths = protoDirs.flatMap((d) => ["--path", join(root, d)]);
  execFileSync(buf, ["build", root, ...paths, "-o", join(packageDir, SHIPPED_IMAGE)], {
    cwd: repoRoot,
    stdio: "inherit",
  });
}

/** Stages the contract of the API package in packageDir: proto/ and image.binpb, made anew. */
export function stageContract(packageDir: string): void {
  const pkg = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as PackageJson;
  const protoDirs = protoDirsOf(pkg);
  const roots = protoRoots();
  rmSync(join(packageDir, SHIPPED_PROTO_DIR), { recursive: true, force: true });
  rmSync(join(packageDir, SHIPPED_IMAGE), { force: true });
  const [root, ...others] = new Set(protoDirs.map((d) => rootOf(d, roots)));
  if (!root || others.length > 0) throw new Error(`${pkg.name}: its proto packages come from more than one source root`);
  for (const protoDir of protoDirs) copyProtos(packageDir, root, protoDir);
  buildImage(packageDir, root, protoDirs);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  stageContract(process.cwd());
}
