/**
 * A real npm registry on this machine (verdaccio) with every public workspace
 * package published to it by plain `npm publish`, for trying the packages as
 * an outside project would before a release, and for the registry test.
 *
 *   npm run registry           # start, publish, print how to use it; Ctrl-C stops it
 *
 * The registry listens on 127.0.0.1 only and keeps its storage in a temporary
 * directory, deleted when it stops. `@moby-core/*` packages come only from what
 * was published to it; every other package comes through it from the npm
 * registry this machine's npm is set to (`npm config get registry`).
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The outcome of a command run to completion. */
export interface CommandResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** A running local registry. */
export interface LocalRegistry {
  /** Its address, `http://127.0.0.1:PORT/`. */
  url: string;
  /** An npm user config file that points npm at it and holds a publish token. */
  userconfig: string;
  /** Its working directory (storage, htpasswd, config, npm cache). */
  dir: string;
  /** The environment for an npm command that uses only this registry (no npm_* variables inherited). */
  env(extra?: Record<string, string>): NodeJS.ProcessEnv;
  /** Stops it and deletes its directory. */
  close(): Promise<void>;
}

/** One public workspace package. */
export interface WorkspacePackage {
  /** Its directory, relative to the repository root. */
  dir: string;
  name: string;
  version: string;
}

interface VerdaccioModule {
  runServer(configPath: string): Promise<Server>;
}

/** The npm registry this machine's npm uses: the uplink for every package not published locally. */
function upstreamRegistry(): string {
  return execFileSync("npm", ["config", "get", "registry"], { encoding: "utf8", env: cleanEnv() }).trim();
}

/** process.env without the npm_* variables an enclosing `npm run` sets (they would aim npm at the repository). */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
}

/** Writes verdaccio's config: our scope published here only, everything else proxied. */
function writeConfig(dir: string): string {
  const config = {
    storage: join(dir, "storage"),
    auth: { htpasswd: { file: join(dir, "htpasswd"), max_users: 10 } },
    uplinks: { upstream: { url: upstreamRegistry(), timeout: "60s", maxage: "30m" } },
    packages: {
      "@moby-core/*": { access: "$all", publish: "$authenticated", unpublish: "$authenticated" },
      "**": { access: "$all", publish: "$authenticated", proxy: "upstream" },
    },
    web: { enable: false },
    log: { type: "file", path: join(dir, "verdaccio.log"), format: "json", level: "warn" },
  };
  const path = join(dir, "config.yaml");
  writeFileSync(path, stringify(config));
  return path;
}

/** Creates a user on the registry and returns its token (verdaccio's htpasswd sign-up). */
async function signUp(url: string): Promise<string> {
  const name = "moby-maintainer";
  const response = await fetch(new URL(`-/user/org.couchdb.user:${name}`, url), {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, password: "local-registry-only" }),
  });
  const body = (await response.json()) as { token?: string; error?: string };
  if (!response.ok || !body.token) throw new Error(`cannot sign up on ${url}: ${response.status} ${body.error ?? ""}`);
  return body.token;
}

/** Starts verdaccio in this process on a free loopback port, with a throwaway storage. */
export async function startLocalRegistry(): Promise<LocalRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "moby-registry-"));
  // Imported by a name held in a variable: verdaccio's own .d.ts files name
  // packages it does not install, so the type check must not follow them.
  const verdaccio = "verdaccio";
  const { runServer } = (await import(verdaccio)) as VerdaccioModule;
  const server = await runServer(writeConfig(dir));
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => done());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/`;
  const token = await signUp(url);
  const userconfig = join(dir, "npmrc");
  writeFileSync(userconfig, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
  const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...cleanEnv(),
    npm_config_userconfig: userconfig,
    npm_config_registry: url,
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    ...extra,
  });
  const close = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
    rmSync(dir, { recursive: true, force: true });
  };
  return { url, userconfig, dir, env, close };
}

/** The workspace packages of the repository at root that are not private, in workspace order. */
export function publicWorkspaces(root = repoRoot): WorkspacePackage[] {
  const read = (dir: string) =>
    JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")) as {
      name: string;
      version: string;
      private?: boolean;
      workspaces?: string[];
    };
  return (read(".").workspaces ?? [])
    .map((dir) => ({ dir, ...read(dir) }))
    .filter((pkg) => !pkg.private)
    .map(({ dir, name, version }) => ({ dir, name, version }));
}

/** Runs a command to completion without blocking this process (the registry serves meanwhile). */
export function runCommand(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", fail);
    child.once("close", (code, signal) => done({ status: code ?? (signal ? 128 : -1), stdout, stderr }));
  });
}

/** Publishes one package with plain `npm publish` from its directory (its prepack builds it). */
export function publishPackage(registry: LocalRegistry, root: string, pkg: WorkspacePackage): Promise<CommandResult> {
  return runCommand("npm", ["publish", "--json"], join(root, pkg.dir), registry.env());
}

/** Publishes every public workspace package of the repository at root; fails naming the first that did not publish. */
export async function publishWorkspaces(registry: LocalRegistry, root = repoRoot): Promise<WorkspacePackage[]> {
  const packages = publicWorkspaces(root);
  for (const pkg of packages) {
    const result = await publishPackage(registry, root, pkg);
    if (result.status !== 0) throw new Error(`npm publish ${pkg.name} failed:\n${result.stderr}`);
  }
  return packages;
}

async function main(): Promise<void> {
  const registry = await startLocalRegistry();
  const stop = () => void registry.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  console.log(`local registry at ${registry.url} (storage ${registry.dir}); publishing...`);
  let published: WorkspacePackage[];
  try {
    published = await publishWorkspaces(registry);
  } catch (error) {
    await registry.close();
    throw error;
  }
  for (const pkg of published) console.log(`  ${pkg.name}@${pkg.version}`);
  console.log(`
Published ${published.length} packages. From a project outside this repository:
  npm install --registry ${registry.url} @moby-core/sdk @moby-core/container-store-api
  npm install --registry ${registry.url} -g @moby-core/init @moby-core/cli
Ctrl-C stops the registry and deletes its storage.`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
