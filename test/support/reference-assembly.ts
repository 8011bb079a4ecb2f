/**
 * The repository's reference manifests (moby.yaml, and moby.contained.yaml
 * with events, container-store and image-store in runc containers), and the
 * assembly a suite boots from one of them as it is: moby-init on the file at
 * the repository root, in a scratch run directory. Suites that exercise the
 * reference assembly run once per manifest from one definition:
 *
 *   for (const manifest of REFERENCE_MANIFESTS) describe(`... (${manifest.file})`, { skip: manifest.skip }, () => { ... });
 *
 * Everything started is stopped by pid (and contained components' containers
 * by id), even when a test failed; init dies with the test process (it is an
 * OwnedProcess), and its components end with it.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseManifest } from "@moby-core/init";
import { MOBY_INIT, RUNC, moby, skipContainers } from "../cli/moby-assembly.js";
import { alive } from "./component-process.js";
import type { Exit } from "./component-process.js";
import { ensureComponentImages } from "./component-images.js";
import { repoRoot } from "./contract-copy.js";
import { OwnedProcess } from "./owned-process.js";

/** One reference manifest of the repository and what differs when it runs. */
export interface ReferenceManifest {
  /** Its file name at the repository root. */
  readonly file: "moby.yaml" | "moby.contained.yaml";
  /** The components it runs in containers of their own (none for moby.yaml), as the file declares them. */
  readonly contained: readonly string[];
  /** Every component it runs, as the file declares them. */
  readonly components: readonly string[];
  /** What each component requires, as the file declares it. */
  readonly requires: Readonly<Record<string, readonly string[]>>;
  /** Why its suites are skipped on this machine, or false. */
  readonly skip: false | string;
  /** The command the README gives to start it, run in the repository (after prepare). */
  readonly startCommand: readonly string[];
  /** What must exist before it boots: nothing, or the contained components' images (built once per test run). */
  prepare(): Promise<void>;
}

/** Where images are built before the first contained boot of this process, reported once. */
let imagesReady: Promise<void> | undefined;

/** Builds the component images whose inputs changed, once per process, and says which were built or reused. */
function componentImages(): Promise<void> {
  return (imagesReady ??= ensureComponentImages().then((report) => {
    const built = report.built.map((b) => `${b.name} built in ${(b.ms / 1000).toFixed(1)} s`);
    process.stdout.write(`# images: ${[...built, ...report.reused.map((name) => `${name} reused`)].join(", ")}\n`);
  }));
}

/** Parses a reference manifest at the repository root as init does. */
function parseReference(file: ReferenceManifest["file"]) {
  return parseManifest(readFileSync(join(repoRoot, file), "utf8"), join(repoRoot, file), { runDir: "/run/moby-reference-check" });
}

/**
 * What a reference manifest at the repository root declares: its components,
 * which run contained, what each requires. Init checks that a contained
 * component's image layout exists, so on a fresh clone the images are built
 * first (as a boot from the manifest needs them anyway).
 */
async function declared(file: ReferenceManifest["file"]): Promise<Pick<ReferenceManifest, "file" | "components" | "contained" | "requires">> {
  let parsed = parseReference(file);
  if ("problems" in parsed && parsed.problems.every((p) => p.field.endsWith(".container.image") && p.message.includes("is not an OCI image layout"))) {
    await componentImages();
    parsed = parseReference(file);
  }
  if ("problems" in parsed) throw new Error(`${file} has mistakes: ${JSON.stringify(parsed.problems)}`);
  const components = parsed.manifest.components;
  return {
    file,
    components: components.map((c) => c.name),
    contained: components.filter((c) => c.container !== undefined).map((c) => c.name),
    requires: Object.fromEntries(components.map((c) => [c.name, c.requires])),
  };
}

/** The reference manifests, each run by every suite that exercises the reference assembly. */
export const REFERENCE_MANIFESTS: readonly ReferenceManifest[] = [
  {
    ...(await declared("moby.yaml")),
    skip: skipContainers,
    startCommand: ["npm", "start"],
    prepare: async () => {},
  },
  {
    ...(await declared("moby.contained.yaml")),
    skip: skipContainers,
    startCommand: ["npx", "moby-init", "--manifest", "moby.contained.yaml"],
    prepare: componentImages,
  },
];

/** runc's state directory for the containers init runs, in a run directory. */
export function initRuncRoot(runDir: string): string {
  return join(runDir, "runc");
}

/** runc's state directory for the containers of container-runtime, in a run directory. */
export function runtimeRuncRoot(runDir: string): string {
  return join(runDir, "container-runtime", "runc");
}

/** The ids of the containers runc keeps under root ([] when there is no state there). */
export function runcContainers(root: string): string[] {
  if (!existsSync(root)) return [];
  return execFileSync(RUNC!, ["--root", root, "list", "-q"], { encoding: "utf8" }).split("\n").filter(Boolean);
}

/** Force-deletes every container runc keeps under root (what a failed test may leave). */
export function deleteRuncContainers(root: string): void {
  for (const id of runcContainers(root)) execFileSync(RUNC!, ["--root", root, "delete", "--force", id], { stdio: "ignore" });
}

/** When a process started (clock ticks after boot, /proc/<pid>/stat), to tell it from a later one with its pid; undefined once it ended. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/** One component as `moby components --json` lists it. */
export interface ListedComponent {
  name: string;
  state: string;
  health: string;
  pid: number;
  restarts: number;
  socket: string;
  containerId: string;
  image: string;
}

/** How long a boot may take: a contained boot unpacks three images into a new run directory. */
const READY_TIMEOUT_MS = 300_000;

/** The reference assembly booted by moby-init from one reference manifest in a scratch run directory. */
export class ReferenceAssembly {
  /** The run directory (<dir>/run). */
  readonly runDir: string;
  private init: OwnedProcess | undefined;
  /** Every component process seen, with its start time, killed in cleanup if that same process still runs. */
  private readonly seen = new Map<number, string | undefined>();

  constructor(
    readonly manifest: ReferenceManifest,
    dir: string,
  ) {
    this.runDir = join(dir, "run");
  }

  /** init's pid, while it runs. */
  get initPid(): number | undefined {
    return this.init?.pid;
  }

  /** init's stdout and stderr (JSON log lines) since the last boot. */
  get output(): string {
    return this.init?.output ?? "";
  }

  /** Prepares the manifest, starts moby-init on it and waits for "assembly ready"; fails with init's output. */
  async boot(): Promise<void> {
    await this.manifest.prepare();
    const init = new OwnedProcess(process.execPath, [MOBY_INIT, "--manifest", join(repoRoot, this.manifest.file), "--run-dir", this.runDir, "--log-format", "json"], {
      cwd: repoRoot,
    });
    this.init = init;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!this.output.includes("assembly ready")) {
      if (!init.running || Date.now() > deadline) {
        assert.fail(`the assembly of ${this.manifest.file} was not ready; init's output:\n${this.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await this.components();
  }

  /** The components as `moby components --json` lists them (init first); fails if moby fails. */
  async components(): Promise<ListedComponent[]> {
    const result = await moby(this.runDir, "components", "--json");
    assert.equal(result.code, 0, result.stderr);
    const listed = JSON.parse(result.stdout) as ListedComponent[];
    for (const component of listed) if (component.pid > 0 && component.name !== "init") this.remember(component.pid);
    return listed;
  }

  /** One listed component; fails if it is not listed. */
  async component(name: string): Promise<ListedComponent> {
    const found = (await this.components()).find((c) => c.name === name);
    assert.ok(found, `moby components lists ${name}`);
    return found;
  }

  /**
   * The pid of the component's own process: the host process init started,
   * or, for a contained component, its container's process (runc state),
   * whose parent is the `runc run` that init started.
   */
  async componentPid(name: string): Promise<number> {
    if (!this.manifest.contained.includes(name)) return (await this.component(name)).pid;
    const state = JSON.parse(execFileSync(RUNC!, ["--root", initRuncRoot(this.runDir), "state", name], { encoding: "utf8" })) as { pid: number };
    this.remember(state.pid);
    return state.pid;
  }

  /** Remembers a component process for cleanup. */
  private remember(pid: number): void {
    if (!this.seen.has(pid)) this.seen.set(pid, startTime(pid));
  }

  /** Sends signal to init and returns how it exited (SIGKILLed if it has not after a grace period). */
  async signalInit(signal: NodeJS.Signals): Promise<Exit> {
    return (await this.init?.stop(signal)) ?? { code: 0, signal: null };
  }

  /** Stops init with SIGTERM and asserts that it exited 0, with its output if not. */
  async stopCleanly(): Promise<void> {
    const exit = await this.signalInit("SIGTERM");
    assert.deepEqual(exit, { code: 0, signal: null }, `init did not exit cleanly:\n${this.output.slice(-4000)}`);
  }

  /**
   * Ends everything this assembly started, whatever state a failed test left:
   * init (SIGTERM, then the component processes it left by pid), and the
   * containers left in the run directory's runc state (init's and the runtime's).
   */
  async cleanup(): Promise<void> {
    await this.signalInit("SIGTERM");
    for (const [pid, started] of this.seen) {
      if (!alive(pid) || startTime(pid) !== started) continue; // ended, or its pid is another process's now
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // ended meanwhile
      }
    }
    if (RUNC === undefined) return;
    for (const root of [initRuncRoot(this.runDir), runtimeRuncRoot(this.runDir)]) deleteRuncContainers(root);
  }
}
