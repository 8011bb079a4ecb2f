/**
 * The contained moby-init peer: the same N idle SDK components, each in a
 * container of its own that moby-init starts with runc from an image
 * holding node, the SDK's production closure and the idle component
 * (built once per benchmark run with the code `npm run images` uses). Its
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
import { REPO_ROOT } from "../support/child-process.js";
import { IDLE_COMPONENT } from "./boot-peer.js";
import type { BootPeer } from "./boot-peer.js";
import { idleManifest, initPeer } from "./init-assembly.js";

/** Where the contained peer keeps its image and its run directory: made by prepareContained, removed by cleanupContained. */
let scratch: string | undefined;

/** The image's path of the idle component. */
const IDLE_IN_IMAGE = "/app/idle-component.mjs";

/** Builds the idle component's image; before the first round. */
export async function prepareContained(): Promise<void> {
  scratch = mkdtempSync(join(tmpdir(), "moby-bench-contained-"));
  const closure = productionClosure(join(REPO_ROOT, "packages", "sdk"), REPO_ROOT, "/app");
  await writeImageLayout(join(scratch, "image"), "bench/idle:1", [
    programEntries([process.execPath]),
    [
      { type: "directory", path: "tmp" },
      { type: "file", path: IDLE_IN_IMAGE, source: IDLE_COMPONENT, executable: false, size: statSync(IDLE_COMPONENT).size },
      ...closure.flatMap(packageEntries),
    ],
  ], { entrypoint: [process.execPath, IDLE_IN_IMAGE], cmd: [], env: ["PATH=/usr/bin:/bin"], workingDir: "/app", labels: {} });
  mkdirSync(join(scratch, "run"), { mode: 0o700 });
}

/** Deletes what the contained peer left (containers included, should a round have failed) and its scratch directory. */
export function cleanupContained(): void {
  if (scratch === undefined) return;
  const root = join(scratch, "run", "runc");
  try {
    for (const id of execFileSync("runc", ["--root", root, "list", "-q"], { encoding: "utf8" }).split("\n").filter(Boolean)) {
      execFileSync("runc", ["--root", root, "delete", "--force", id], { stdio: "ignore" });
    }
  } catch {
    // no runc state
  }
  rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

/** moby-init with N idle components, each contained. */
export const containedAssembly: BootPeer = initPeer(
  "moby-init contained",
  "moby-init booting the same N idle SDK components, each in a runc container of its own from an image (read-only root, own namespaces, no capabilities)",
  {
    manifest: (n) => idleManifest(n, [`container: { image: ${join(scratch!, "image")} }`]),
    runDir: () => join(scratch!, "run"),
    victim: (component, runDir) => (JSON.parse(execFileSync("runc", ["--root", join(runDir, "runc"), "state", component.name], { encoding: "utf8" })) as { pid: number }).pid,
  },
);
