/**
 * A scratch copy of the repository's contract (buf config, proto/, gen/, the
 * API reference docs/api/ and the generation scripts) in a temporary directory, so a test can break it
 * on purpose and watch a gate reject it without touching the real tree.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The outcome of a command run to completion. */
export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in dir with the repository's node_modules/.bin first on PATH. */
export function run(command: string, args: string[], dir: string): RunResult {
  const result = spawnSync(command, args, {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, PATH: `${join(repoRoot, "node_modules/.bin")}:${process.env.PATH ?? ""}` },
  });
  if (result.error) throw result.error;
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** A disposable copy of the contract; edit it with replaceIn, then run gates in dir. */
export class ContractCopy {
  /** The directory holding the copy. */
  readonly dir: string;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "moby-contract-"));
    for (const entry of ["buf.yaml", "buf.gen.yaml", "buf.gen.docs.yaml", "proto", "gen", "docs/api", "scripts"]) {
      cpSync(join(repoRoot, entry), join(this.dir, entry), { recursive: true });
    }
    symlinkSync(join(repoRoot, "node_modules"), join(this.dir, "node_modules"));
  }

  /** Replaces one exact occurrence of from in a file of the copy; throws if it is absent. */
  replaceIn(file: string, from: string, to: string): void {
    const path = join(this.dir, file);
    const text = readFileSync(path, "utf8");
    if (!text.includes(from)) throw new Error(`${file} does not contain ${JSON.stringify(from)}`);
    writeFileSync(path, text.replace(from, to));
  }

  /** Deletes the copy. */
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
