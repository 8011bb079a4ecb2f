// The packages as a user outside this repository gets them: every public
// workspace package is published with plain `npm publish` from a clean copy of
// the tree (no dist/: each package's prepack builds it) to a real registry
// (verdaccio on 127.0.0.1), then an empty project installs them by name, writes
// and generates a proto that imports a moby-core proto, serves it with the SDK
// under moby-init and moby installed with `npm install -g`, and checks its own
// copy of the contract with `buf breaking` against the image the package ships.
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { execFileSync, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { CommandResult, LocalRegistry, WorkspacePackage } from "../../scripts/local-registry.js";
import {
  cleanEnv,
  publicWorkspaces,
  publishPackage,
  runCommand,
  startLocalRegistry,
} from "../../scripts/local-registry.js";
import { alive } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";

interface RootPackageJson {
  devDependencies: Record<string, string>;
}
const rootPackage = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as RootPackageJson;
/** The version of a tool the downstream project installs: the one this repository pins. */
const pinned = (name: string): string => `${name}@${rootPackage.devDependencies[name]}`;
/** The @grpc/proto-loader the repository's grpc-js uses. */
const protoLoader = (): string => {
  const { version } = JSON.parse(readFileSync(join(repoRoot, "node_modules/@grpc/proto-loader/package.json"), "utf8")) as { version: string };
  return `@grpc/proto-loader@${version}`;
};

/** What `npm publish --json` reports of the tarball it published, keyed by package name. */
type PublishReports = Record<string, { files: { path: string }[] }>;

/**
 * A copy of the repository as a fresh clone has it: the files git tracks (and
 * new ones it does not ignore), no build output, and a node_modules whose
 * @moby-core links point at the copy's own packages.
 */
function cleanCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), "moby-clean-"));
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  for (const file of listed.split("\0").filter((f) => f !== "" && existsSync(join(repoRoot, f)))) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(repoRoot, file), join(dir, file));
  }
  mkdirSync(join(dir, "node_modules/@moby-core"), { recursive: true });
  for (const entry of readdirSync(join(repoRoot, "node_modules"))) {
    if (entry === "@moby-core") continue;
    symlinkSync(join(repoRoot, "node_modules", entry), join(dir, "node_modules", entry));
  }
  for (const pkg of publicWorkspaces(dir)) {
    symlinkSync(join(dir, pkg.dir), join(dir, "node_modules", pkg.name));
    // A package whose dependency's version differs from the hoisted one has its own node_modules, as after npm ci.
    const own = join(repoRoot, pkg.dir, "node_modules");
    if (existsSync(own)) symlinkSync(own, join(dir, pkg.dir, "node_modules"));
  }
  return dir;
}

/** Fails the test with the command's output unless it exited 0. */
function succeeded(result: CommandResult, what: string): CommandResult {
  assert.equal(result.status, 0, `${what} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result;
}

/** Polls until check returns a value, or fails after timeoutMs naming what it waited for. */
async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("packages published to a real registry and used from outside the repository", { timeout: 900_000 }, () => {
  const scratch = mkdtempSync(join(tmpdir(), "moby-outside-"));
  const project = join(scratch, "project");
  const globalPrefix = join(scratch, "global");
  const runDir = join(scratch, "run");
  let clean = "";
  let builtBeforePublish = true;
  let registry: LocalRegistry;
  let workspaces: WorkspacePackage[] = [];
  const shipped = new Map<string, string[]>();
  let init: ChildProcess | undefined;
  const startedPids: number[] = [];

  /** npm in the downstream project, against the local registry only. */
  const npm = (args: string[], cwd = project) => runCommand("npm", args, cwd, registry.env());
  /** A binary the project installed, run in the project. */
  const bin = (name: string, args: string[]) =>
    runCommand(join(project, "node_modules/.bin", name), args, project, {
      ...cleanEnv(),
      PATH: `${join(project, "node_modules/.bin")}:${process.env.PATH ?? ""}`,
    });

  before(async () => {
    clean = cleanCopy();
    builtBeforePublish = readdirSync(join(clean, "packages")).some((p) => existsSync(join(clean, "packages", p, "dist")));
    registry = await startLocalRegistry();
    workspaces = publicWorkspaces(clean);
    const started = Date.now();
    for (const pkg of workspaces) {
      const published = succeeded(await publishPackage(registry, clean, pkg), `npm publish ${pkg.name}`);
      const report = (JSON.parse(published.stdout) as PublishReports)[pkg.name];
      shipped.set(pkg.name, report?.files.map((f) => f.path) ?? []);
    }
    console.log(`# built and published ${workspaces.length} packages from a clean tree in ${Date.now() - started} ms`);
  });

  after(async () => {
    if (init?.pid && init.exitCode === null) init.kill("SIGKILL");
    for (const pid of startedPids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    await registry?.close();
    rmSync(scratch, { recursive: true, force: true });
    if (clean) rmSync(clean, { recursive: true, force: true });
  });

  it("publishes every public package from a clean tree with its compiled code, built by its own prepack", () => {
    assert.equal(builtBeforePublish, false, "the clean copy has no dist/ before publishing");
    assert.equal(shipped.size, workspaces.length);
    for (const pkg of workspaces) {
      const paths = shipped.get(pkg.name) ?? [];
      const manifest = JSON.parse(readFileSync(join(clean, pkg.dir, "package.json"), "utf8")) as {
        bin?: Record<string, string>;
        exports?: Record<string, { default?: string }>;
      };
      for (const target of Object.values(manifest.exports ?? {})) {
        const file = target.default?.replace(/^\.\//, "");
        if (file && !file.includes("*")) assert.ok(paths.includes(file), `${pkg.name} ships ${file}`);
      }
      for (const file of Object.values(manifest.bin ?? {})) {
        assert.ok(paths.includes(file.replace(/^\.\//, "")), `${pkg.name} ships its bin ${file}`);
      }
      assert.ok(paths.some((p) => /^dist\/.*\.js$/.test(p)), `${pkg.name} ships compiled code`);
      assert.ok(!paths.some((p) => p.endsWith(".ts") && !p.endsWith(".d.ts")), `${pkg.name} ships no TypeScript sources`);
      assert.ok(!paths.some((p) => p.includes(".spec.")), `${pkg.name} ships no specs`);
      if (pkg.name.endsWith("-api")) {
        assert.ok(paths.includes("image.binpb"), `${pkg.name} ships its buf image`);
        assert.ok(paths.some((p) => /^proto\/.+\.proto$/.test(p)), `${pkg.name} ships its .proto sources`);
      }
    }
  });

  it("refuses to publish the same version twice", async () => {
    const api = workspaces.find((p) => p.name === "@moby-core/component-api")!;
    const again = await publishPackage(registry, clean, api);
    assert.notEqual(again.status, 0, "a second publish of the same version must fail");
    assert.match(again.stderr, /E403|EPUBLISHCONFLICT|cannot publish over/i);
  });

  it("installs by name in an empty project, resolving every internal dependency from the registry", async () => {
    mkdirSync(project);
    cpSync(join(repoRoot, "test/fixtures/downstream-project"), project, { recursive: true });
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "downstream", private: true, type: "module" }));
    const apis = workspaces.filter((p) => p.name.endsWith("-api")).map((p) => p.name);
    succeeded(
      await npm([
        "install",
        "@moby-core/sdk",
        ...apis,
        pinned("@bufbuild/protobuf"),
        pinned("@bufbuild/buf"),
        pinned("@bufbuild/protoc-gen-es"),
        pinned("typescript"),
        pinned("@types/node"),
        protoLoader(),
      ]),
      "npm install from the registry",
    );
    for (const pkg of workspaces.filter((p) => p.name === "@moby-core/sdk" || p.name.endsWith("-api"))) {
      const installed = join(project, "node_modules", pkg.name);
      assert.ok(!lstatSync(installed).isSymbolicLink(), `${pkg.name} is installed, not linked`);
      const { version } = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { version: string };
      assert.equal(version, pkg.version, `${pkg.name} is the published version`);
    }
    const lock = readFileSync(join(project, "package-lock.json"), "utf8");
    assert.match(lock, new RegExp(`"resolved": "${registry.url}@moby-core/component-api/-/component-api-`));
  });

  it("generates a downstream proto that imports a moby-core proto, pointing at the installed package", async () => {
    succeeded(await bin("buf", ["lint"]), "buf lint");
    succeeded(await bin("buf", ["generate"]), "buf generate");
    const generated = readFileSync(join(project, "gen/acme/notes/v1/notes_service_pb.ts"), "utf8");
    assert.match(generated, /from "@moby-core\/container-store-api\/moby\/container\/store\/v1\/container_pb\.js"/);
    assert.ok(!existsSync(join(project, "gen/moby")), "no copy of the moby-core proto is generated");
    succeeded(await bin("tsc", ["-p", "."]), "tsc");
  });

  it("imports, type-checks and runs every API package", async () => {
    const program = succeeded(
      await runCommand("node", ["dist/src/check-api-packages.js"], project, cleanEnv()),
      "check-api-packages",
    );
    assert.match(program.stdout, /all API packages import, type-check and run/);
  });

  it("loads the shipped protos with @grpc/proto-loader, as a grpc-js user would", async () => {
    const program = `
      import { loadSync } from "@grpc/proto-loader";
      const dirs = (...apis) => apis.map((api) => "node_modules/@moby-core/" + api + "/proto");
      const store = loadSync("moby/container/store/v1/container_store_service.proto", { includeDirs: dirs("container-store-api") });
      const registry = loadSync("moby/registry/v1/registry_service.proto", { includeDirs: dirs("registry-api", "component-api") });
      const methods = (definition, service) => Object.keys(definition[service]).sort().join(",");
      console.log(methods(store, "moby.container.store.v1.ContainerStoreService"));
      console.log(methods(registry, "moby.registry.v1.RegistryService"));
    `;
    const loaded = succeeded(
      await runCommand("node", ["--input-type=module", "-e", program], project, cleanEnv()),
      "proto-loader",
    );
    const [store, registryMethods] = loaded.stdout.trim().split("\n");
    assert.match(store ?? "", /CreateContainer/);
    assert.match(store ?? "", /WatchContainers/);
    assert.match(registryMethods ?? "", /GetRegistration,ListRegistrations,ResolveService,WatchRegistrations/);
  });

  it("boots the component with moby-init and moby from npm install -g, lists it healthy and calls it", async () => {
    succeeded(
      await runCommand(
        "npm",
        ["install", "--global", "--prefix", globalPrefix, "@moby-core/init", "@moby-core/cli"],
        project,
        registry.env(),
      ),
      "npm install -g @moby-core/init @moby-core/cli",
    );
    const mobyInit = join(globalPrefix, "bin/moby-init");
    const moby = join(globalPrefix, "bin/moby");
    assert.ok(existsSync(mobyInit) && existsSync(moby), "moby-init and moby are on the global bin path");

    init = spawn(mobyInit, ["--manifest", "moby.yaml", "--run-dir", runDir], {
      cwd: project,
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let initOutput = "";
    init.stdout!.on("data", (chunk: Buffer) => (initOutput += chunk.toString()));
    init.stderr!.on("data", (chunk: Buffer) => (initOutput += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => init!.once("exit", (code) => resolve(code)));

    interface Listed {
      name: string;
      health: string;
      pid: number;
    }
    const notes = await eventually("notes to be listed healthy", 60_000, async () => {
      const listed = await runCommand(moby, ["--run-dir", runDir, "components", "--json"], project, cleanEnv());
      if (listed.status !== 0) return undefined;
      const found = (JSON.parse(listed.stdout) as Listed[]).find((c) => c.name === "notes");
      return found?.health === "serving" ? found : undefined;
    }).catch((error: Error) => assert.fail(`${error.message}\ninit's output:\n${initOutput}`));
    startedPids.push(notes.pid);

    const client = succeeded(
      await runCommand("node", ["dist/src/client.js", join(runDir, "notes.sock")], project, cleanEnv()),
      "the downstream client",
    );
    const answer = JSON.parse(client.stdout) as { summary: string; name: string; pid: number; services: string[] };
    assert.equal(answer.summary, "web: serves the site");
    assert.equal(answer.name, "notes");
    assert.equal(answer.pid, notes.pid, "GetInfo answers from the process init started");
    assert.ok(answer.services.includes("acme.notes.v1.NotesService"));

    init.kill("SIGTERM");
    assert.equal(await exited, 0, `moby-init exits 0 on SIGTERM\n${initOutput}`);
    assert.ok(!alive(notes.pid), "the component stopped with init");
  });

  it("checks a copy of the contract with buf breaking against the image the package ships", async () => {
    const shipped = join(project, "node_modules/@moby-core/container-store-api");
    const image = join(shipped, "image.binpb");
    const fork = join(scratch, "fork");
    const container = join(fork, "moby/container/store/v1/container.proto");
    const copyContract = () => {
      rmSync(fork, { recursive: true, force: true });
      cpSync(join(shipped, "proto"), fork, { recursive: true });
    };
    const breaking = () => bin("buf", ["breaking", fork, "--against", image]);

    copyContract();
    succeeded(await breaking(), "buf breaking on an unchanged copy");

    const original = readFileSync(container, "utf8");
    assert.match(original, /string id = 1;/);
    writeFileSync(container, original.replace("string id = 1;", "string id = 99;"));
    const broken = await breaking();
    assert.notEqual(broken.status, 0, "renumbering a field is breaking");
    assert.match(broken.stdout + broken.stderr, /Previously present field "1" with name "id" on message "Container" was deleted/);

    copyContract();
    const additive = readFileSync(container, "utf8").replace(
      /\nmessage Container \{\n/,
      '\nmessage Container {\n  // A field added later: additive, so not breaking.\n  string added_later = 1000;\n',
    );
    writeFileSync(container, additive);
    assert.match(readFileSync(container, "utf8"), /added_later = 1000/);
    succeeded(await breaking(), "buf breaking on an additive change");
  });
});
