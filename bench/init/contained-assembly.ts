/**
 * The contained moby-init peer: the same N idle SDK components, each in a
 * container of its own that moby-init starts with runc from an image
 * holding node and the idle component bundled with the SDK into one file
 * with its source map, as `npm run images` bundles a component (built once
 * per benchmark run with the same code). A second peer runs the same
 * component from an image holding the SDK's production closure as modules,
 * as images were before they were bundled: what the bundle is worth. Its
 * run directory lives across rounds, as /run/moby does across restarts of
 * init, so the image is unpacked once (in the first round, reported as the
 * first boot) and each boot measures what every later boot costs. Restart:
 * SIGKILL of the component's own process (its container's pid 1), not runc's.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeImageLayout } from "@moby-core/oci-image";
import { programEntries } from "../../packages/init/src/images/component-image.js";
import { packageEntries, productionClosure } from "../../packages/init/src/images/package-closure.js";
import { bundleProgram } from "../../packages/init/src/images/program-bundle.js";
import { REPO_ROOT } from "../support/child-process.js";
import { IDLE_COMPONENT } from "./boot-peer.js";
import type { Component } from "@moby-core/supervisor-api/v1";
import type { BootPeer } from "./boot-peer.js";
import { idleManifest, initPeer } from "./init-assembly.js";

/** Where the contained peer keeps its image and its run directory: made by prepareContained, removed by cleanupContained. */
let scratch: string | undefined;

/** The image's path of the idle component's bundle. */
const IDLE_IN_IMAGE = "/app/idle-component.mjs";

/** The image's path of the idle component as a module beside the closure. */
const IDLE_MODULE_IN_IMAGE = "/app/idle-component.mjs";

/** The run directory of each contained peer, under scratch: each keeps its own image unpacked. */
const RUN_DIRS = ["run", "run-modules"] as const;

/** Builds the idle component's images, bundled and as modules; before the first round. */
export async function prepareContained(): Promise<void> {
  scratch = mkdtempSync(join(tmpdir(), "moby-bench-contained-"));
  const closure = productionClosure(join(REPO_ROOT, "packages", "sdk"), REPO_ROOT, "/app");
  const node = programEntries([process.execPath]);
  const config = { cmd: [], env: ["PATH=/usr/bin:/bin"], workingDir: "/app", labels: {} };
  const bundle = await bundleProgram({ entry: IDLE_COMPONENT, imagePath: IDLE_IN_IMAGE, closure, root: REPO_ROOT, appRoot: "/app", scratchDir: join(scratch, "bundle") });
  await writeImageLayout(join(scratch, "image"), "bench/idle:1", [node, [{ type: "directory", path: "tmp" }, ...bundle.entries]], {
    ...config,
    entrypoint: [process.execPath, "--enable-source-maps", IDLE_IN_IMAGE],
  });
  await writeImageLayout(join(scratch, "image-modules"), "bench/idle-modules:1", [
    node,
    [
      { type: "directory", path: "tmp" },
      { type: "file", path: IDLE_MODULE_IN_IMAGE, source: IDLE_COMPONENT, executable: false, size: statSync(IDLE_COMPONENT).size },
      ...closure.flatMap(packageEntries),
    ],
  ], { ...config, entrypoint: [process.execPath, IDLE_MODULE_IN_IMAGE] });
  for (const dir of RUN_DIRS) mkdirSync(join(scratch, dir), { mode: 0o700 });
}

/** Deletes what the contained peer left (containers included, should a round have failed) and its scratch directory. */
export function cleanupContained(): void {
  if (scratch === undefined) return;
  for (const dir of RUN_DIRS) {
    const root = join(scratch, dir, "runc");
    try {
      for (const id of execFileSync("runc", ["--root", root, "list", "-q"], { encoding: "utf8" }).split("\n").filter(Boolean)) {
        execFileSync("runc", ["--root", root, "delete", "--force", id], { stdio: "ignore" });
      }
    } catch {
      // no runc state
    }
  }
  rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

/** The pid of a contained component's own process (its container's pid 1 seen from the host), not runc's. */
function containerPid(component: Component, runDir: string): number {
  return (JSON.parse(execFileSync("runc", ["--root", join(runDir, "runc"), "state", component.name], { encoding: "utf8" })) as { pid: number }).pid;
}

/** moby-init with N idle components, each contained, from the bundled image. */
export const containedAssembly: BootPeer = initPeer(
  "moby-init contained",
  "moby-init booting the same N idle SDK components, each in a runc container of its own from an image (read-only root, own namespaces, no capabilities), the component bundled into one file as `npm run images` does",
  {
    manifest: (n) => idleManifest(n, [`container: { image: ${join(scratch!, "image")} }`]),
    runDir: () => join(scratch!, "run"),
    victim: containerPid,
  },
);

/** The same from the image holding the component and the SDK's closure as modules. */
export const containedModulesAssembly: BootPeer = initPeer(
  "contained, modules",
  "the contained peer from an image holding the component and the SDK's production closure as modules, not bundled",
  {
    manifest: (n) => idleManifest(n, [`container: { image: ${join(scratch!, "image-modules")} }`]),
    runDir: () => join(scratch!, "run-modules"),
    victim: containerPid,
  },
);
