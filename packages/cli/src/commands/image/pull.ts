/**
 * `moby pull REFERENCE`: pulls an image through the image store. On a
 * terminal, one line per layer redrawn in place as its bytes arrive; piped,
 * one plain line per layer state change; -q prints only the image's name.
 * Ctrl-C cancels the pull (the store keeps nothing half-downloaded).
 */
import type { Command } from "commander";
import { ContentKind, PullPhase } from "@moby-core/image-api/v1";
import type { PullProgress } from "@moby-core/image-api/v1";
import { withImageService } from "../../image-client.js";
import { humanSize } from "../../images-table.js";
import type { SocketOf } from "../shared.js";

const PHASES: Record<number, string> = {
  [PullPhase.RESOLVED]: "Waiting",
  [PullPhase.DOWNLOADING]: "Downloading",
  [PullPhase.VERIFYING]: "Verifying",
  [PullPhase.EXTRACTING]: "Extracting",
  [PullPhase.DONE]: "Pull complete",
  [PullPhase.EXISTS]: "Already exists",
};

/** One layer's line: short digest, phase, and bytes or a bar while downloading. */
export function progressLine(p: PullProgress, width = 30): string {
  const id = p.digest.slice("sha256:".length, "sha256:".length + 12);
  const phase = PHASES[p.phase] ?? "";
  if (p.phase !== PullPhase.DOWNLOADING || p.totalBytes === 0n) return `${id}: ${phase}`;
  const done = Math.min(width, Math.floor((Number(p.currentBytes) / Number(p.totalBytes)) * width));
  return `${id}: ${phase} [${"=".repeat(done)}${done < width ? ">" : ""}${" ".repeat(Math.max(0, width - done - 1))}] ${humanSize(Number(p.currentBytes))}/${humanSize(Number(p.totalBytes))}`;
}

/** Pulls reference; returns moby's exit code. */
export async function pullCommand(initSocket: string, reference: string, options: { quiet: boolean; platform?: string }, out: NodeJS.WriteStream = process.stdout): Promise<number> {
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once("SIGINT", onInterrupt);
  const tty = out.isTTY === true && !options.quiet;
  const lines: string[] = [];
  const order: string[] = [];
  try {
    return await withImageService(initSocket, async (client) => {
      for await (const message of client.pullImage({ reference, platform: options.platform ?? "" }, { signal: controller.signal })) {
        if (message.kind.case === "image") {
          out.write(options.quiet ? `${message.kind.value.name}\n` : `Digest: ${message.kind.value.digest}\nPulled: ${message.kind.value.name}\n`);
          continue;
        }
        const p = message.kind.value;
        if (p === undefined || options.quiet || p.kind !== ContentKind.LAYER) continue;
        if (!tty) {
          if (p.phase !== PullPhase.DOWNLOADING) out.write(`${progressLine(p)}\n`);
          continue;
        }
        let index = order.indexOf(p.digest);
        if (index < 0) {
          order.push(p.digest);
          lines.push("");
          out.write("\n");
          index = order.length - 1;
        }
        lines[index] = progressLine(p);
        const up = order.length - index;
        out.write(`\x1b[${up}A\r\x1b[2K${lines[index]}\x1b[${up}B\r`);
      }
      return 0;
    });
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}

/** Adds `pull` to program. */
export function registerPull(program: Command, socketOf: SocketOf): void {
  program
    .command("pull")
    .description("pull an image from a registry, with per-layer progress")
    .argument("<reference>", 'an image reference, for example "busybox", "localhost:5000/team/app:1.2" or "name@sha256:..."')
    .option("-q, --quiet", "print only the image's name")
    .option("--platform <os/arch[/variant]>", "the platform to pull from a multi-platform image (default: this machine's)")
    .action(async (reference: string, options: { quiet?: boolean; platform?: string }, command: Command) => {
      process.exitCode = await pullCommand(socketOf(command), reference, { quiet: options.quiet === true, platform: options.platform });
    });
}
