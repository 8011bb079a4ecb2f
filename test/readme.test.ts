// The README holds: it leads with the two commands, its tour runs as written
// against the assembly of each reference manifest, started as the README says
// (`npm start` for moby.yaml, `npx moby-init --manifest moby.contained.yaml`
// once the images are built), each in a run directory of its own, and
// its manifest example is a valid manifest whose components are exactly those
// of moby.yaml, so neither can drift from what the repository does.
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { parseManifest } from "@moby-core/init";
import type { Manifest } from "@moby-core/init";
import { cleanEnv, runCommand } from "../scripts/local-registry.js";
import { scratchDirectory } from "./support/component-process.js";
import { NpmStart } from "./support/npm-start.js";
import { repoRoot } from "./support/contract-copy.js";
import { REFERENCE_MANIFESTS, deleteRuncContainers, initRuncRoot, runcContainers, runtimeRuncRoot } from "./support/reference-assembly.js";

const readme = readFileSync(join(repoRoot, "README.md"), "utf8");

/** The fenced code blocks of a Markdown text, with their info strings. */
function fencedBlocks(text: string): { info: string; body: string }[] {
  return [...text.matchAll(/```([^\n]*)\n([\s\S]*?)```/g)].map((m) => ({ info: m[1]!, body: m[2]! }));
}

/** The fenced blocks under a heading of the README, with their info strings. */
function blocksUnder(heading: string, text = readme): { info: string; body: string }[] {
  const start = text.indexOf(`\n${heading}\n`);
  assert.ok(start >= 0, `the README has a section ${JSON.stringify(heading)}`);
  const next = text.slice(start + heading.length + 2).search(/\n#{1,2} /);
  const section = next < 0 ? text.slice(start) : text.slice(start, start + heading.length + 2 + next);
  return fencedBlocks(section);
}

/** A manifest parsed as if it were a file at the repository root; fails listing its problems. */
function parsed(text: string, name: string): Manifest {
  const result = parseManifest(text, join(repoRoot, name), { runDir: "/run/moby-readme-check" });
  if ("problems" in result) assert.fail(`${name} has mistakes: ${JSON.stringify(result.problems)}`);
  return result.manifest;
}

/** The code blocks of the README from its start to its first "## " heading. */
function leadBlocks(): { info: string; body: string }[] {
  const lead = readme.slice(0, readme.indexOf("\n## "));
  return fencedBlocks(lead);
}

describe("README", () => {
  const scratch = scratchDirectory("moby-readme-");
  const started: { start: NpmStart; runDir: string }[] = [];
  after(() => {
    try {
      for (const { start, runDir } of started) {
        start.cleanup();
        deleteRuncContainers(initRuncRoot(runDir));
        deleteRuncContainers(runtimeRuncRoot(runDir));
      }
    } finally {
      scratch.remove();
    }
  });

  it("leads with the command that runs the system and the one that runs the tests", () => {
    const first = leadBlocks()[0]?.body ?? "";
    assert.match(first, /^npm install && npm start\s+#/m);
    assert.match(first, /^npm test\s+#/m);
  });

  for (const manifest of REFERENCE_MANIFESTS) {
    const command = manifest.startCommand.join(" ");
    it(`runs its tour as written against the assembly ${command} boots (${manifest.file})`, { skip: manifest.skip, timeout: 600_000 }, async () => {
      assert.ok(readme.includes(command), `the README says to start ${manifest.file} with ${command}`);
      const tour = leadBlocks().filter((b) => b.info === "sh tour");
      assert.equal(tour.length, 1, "one tour block");
      await manifest.prepare();
      const runDir = join(scratch.dir, manifest.file, "run");
      mkdirSync(dirname(runDir), { recursive: true });
      const start = new NpmStart(repoRoot, [], { MOBY_RUN_DIR: runDir }, manifest.startCommand);
      started.push({ start, runDir });
      await start.waitFor("assembly ready", 300_000);
      await start.components(runDir);

      const ran = await runCommand("bash", ["-euo", "pipefail", "-c", tour[0]!.body], repoRoot, { ...cleanEnv(), MOBY_RUN_DIR: runDir });
      assert.equal(ran.status, 0, `the tour failed:\n${ran.stdout}\n${ran.stderr}`);
      assert.match(ran.stdout, /^container-runtime\s+running\s+serving/m, "moby components");
      assert.match(ran.stdout, /^hello from a container$/m, "moby run");
      assert.match(ran.stdout, /\/components\/ready\s+\{"name":"container-runtime"/, "moby events");
      assert.match(ran.stdout, /container store open/, "moby component logs");
      assert.match(ran.stdout, /"name": "events"/, "buf curl GetInfo");

      await start.interrupt();
      assert.deepEqual(start.survivors(), [], `Ctrl-C on ${command} stops everything it started`);
      assert.deepEqual(runcContainers(initRuncRoot(runDir)), [], "and no component's container is left");
    });
  }

  it("shows a manifest that init accepts, each component as moby.yaml declares it", () => {
    const [example] = blocksUnder("## The manifest").filter((b) => b.info === "yaml");
    assert.ok(example, "a yaml block under 'The manifest'");
    const documented = parsed(example.body, "README-example.yaml");
    const reference = parsed(readFileSync(join(repoRoot, "moby.yaml"), "utf8"), "moby.yaml");
    assert.ok(documented.components.length > 0);
    for (const component of documented.components) {
      const real = reference.components.find((c) => c.name === component.name);
      assert.ok(real, `moby.yaml declares ${component.name}`);
      assert.deepEqual(component, real, `${component.name} is documented as moby.yaml declares it`);
    }
  });
});
