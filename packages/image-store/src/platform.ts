/**
 * Platforms as OCI indexes name them ("linux/amd64", "linux/arm64/v8"): this
 * machine's, parsing, and the choice of one manifest from an index.
 */
import { FailedPreconditionError, InvalidArgumentError } from "@moby-core/sdk";

/** A platform of the OCI image spec. */
export interface Platform {
  /** The operating system, for example "linux". */
  os: string;
  /** The CPU architecture in GOARCH terms, for example "amd64". */
  architecture: string;
  /** The CPU variant, for example "v8"; empty when none. */
  variant: string;
}

const GOARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };

/** The platform of this machine. */
export function hostPlatform(): Platform {
  const architecture = GOARCH[process.arch] ?? process.arch;
  return { os: process.platform, architecture, variant: architecture === "arm64" ? "v8" : "" };
}

/** Parses "os/arch[/variant]"; empty text is this machine's platform. */
export function parsePlatform(text: string, field: string): Platform {
  if (text === "") return hostPlatform();
  const parts = text.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) {
    throw new InvalidArgumentError(field, `"${text}" is not os/arch[/variant], for example linux/amd64`);
  }
  return { os: parts[0]!, architecture: parts[1]!, variant: parts[2] ?? "" };
}

/** "os/arch[/variant]". */
export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}`;
}

/** A manifest descriptor of an index. */
export interface IndexEntry {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
}

/** The entry of an index for the platform: exact variant first, then any variant (arm64 "v8" and none are the same). */
export function selectPlatform(entries: readonly IndexEntry[], wanted: Platform): IndexEntry {
  const fits = entries.filter((e) => e.platform?.os === wanted.os && e.platform?.architecture === wanted.architecture);
  const variantOf = (e: IndexEntry) => e.platform?.variant ?? (wanted.architecture === "arm64" ? "v8" : "");
  const exact = fits.find((e) => variantOf(e) === wanted.variant) ?? (wanted.variant === "" ? fits[0] : undefined);
  if (!exact) {
    const offered = entries.map((e) => `${e.platform?.os ?? "?"}/${e.platform?.architecture ?? "?"}${e.platform?.variant ? `/${e.platform.variant}` : ""}`);
    throw new FailedPreconditionError(`no manifest for platform ${formatPlatform(wanted)} in the index (it has ${offered.join(", ") || "none"})`);
  }
  return exact;
}
