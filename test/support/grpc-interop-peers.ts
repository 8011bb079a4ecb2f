/**
 * The official gRPC interop peers, as Debian ships them, for the interop
 * test: grpc-go's interop client and server (built once per grpc-go and Go
 * version from the source package Debian builds golang-google-grpc-dev
 * from, whose binary package leaves the interop programs out), and gRPC
 * C-core's, through the Ruby client and server in ruby-grpc. Also the
 * processes around them: a peer run to its end, a peer served until
 * stopped, a socat bridge between a TCP port and a unix socket.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./contract-copy.js";
import { OwnedProcess } from "./owned-process.js";

/** Debian's source package of grpc-go. */
const GRPC_GO_SOURCE = "golang-google-grpc";
/** The binary package that brings grpc-go's dependencies into /usr/share/gocode. */
const GRPC_GO_DEV = "golang-google-grpc-dev";
/** Where Debian's golang-*-dev packages put their sources (a GOPATH). */
const DEBIAN_GOPATH = "/usr/share/gocode";

/** Runs a command to its end; throws a one-line error with its output when it fails. */
function mustRun(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.status}: ${(result.stderr || result.stdout).trim().slice(-2000)}`);
  return result.stdout;
}

/** The installed version of a Debian package; throws naming the package when it is not installed. */
function debianVersion(name: string): string {
  const result = spawnSync("dpkg-query", ["-W", "-f", "${Version}", name], { encoding: "utf8" });
  if (result.status !== 0 || result.stdout === "") throw new Error(`Debian package ${name} is not installed (apt-get install ${name})`);
  return result.stdout;
}

/**
 * The machine's own Debian archives as deb-src entries (deb822 stanzas),
 * read from its apt configuration at run time: the archive's address is the
 * machine's, never written into the repository.
 */
function debianSourceEntries(): string {
  const dir = "/etc/apt/sources.list.d";
  const stanzas: string[] = [];
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    if (!name.endsWith(".sources")) continue;
    for (const stanza of readFileSync(join(dir, name), "utf8").split(/\n\s*\n/)) {
      if (/^Types:.*\bdeb\b/m.test(stanza) && stanza.includes("debian-archive-keyring")) stanzas.push(stanza.replace(/^Types:.*$/m, "Types: deb-src"));
    }
  }
  const list = "/etc/apt/sources.list";
  if (existsSync(list)) {
    for (const line of readFileSync(list, "utf8").split("\n")) {
      const match = /^deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$/.exec(line.trim());
      if (match !== null && /\/debian(-security)?\/?$/.test(match[2]!)) {
        stanzas.push(`Types: deb-src\nURIs: ${match[2]}\nSuites: ${match[3]}\nComponents: ${match[4]}\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg`);
      }
    }
  }
  if (stanzas.length === 0) throw new Error("no Debian archive found in /etc/apt (sources.list.d/*.sources or sources.list) to fetch grpc-go's source package from");
  return stanzas.join("\n\n") + "\n";
}

/**
 * Downloads Debian's source package name at version into dir with apt, with
 * apt's state kept in dir: the machine's apt configuration is left as it is.
 */
function downloadDebianSource(name: string, version: string, dir: string): void {
  const parts = join(dir, "sources.list.d");
  const lists = join(dir, "lists");
  mkdirSync(join(lists, "partial"), { recursive: true });
  mkdirSync(parts, { recursive: true });
  writeFileSync(join(parts, "debian-src.sources"), debianSourceEntries());
  const apt = ["-o", "Dir::Etc::SourceList=/dev/null", "-o", `Dir::Etc::SourceParts=${parts}`, "-o", `Dir::State::Lists=${lists}`, "-o", "Debug::NoLocking=1", "-qq"];
  mustRun("apt-get", [...apt, "update"]);
  mustRun("apt-get", [...apt, "source", "--download-only", `${name}=${version}`], { cwd: dir });
}

/** grpc-go's interop programs, and how long building them took (undefined: they were in the cache). */
export interface GoInteropPeers {
  client: string;
  server: string;
  version: string;
  buildMs: number | undefined;
}

/**
 * grpc-go's interop client and server, built once per grpc-go and Go
 * version into node_modules/.cache/grpc-interop: the source package's
 * interop/ with grpc-go itself from the same source, in GOPATH mode
 * against Debian's golang-*-dev packages, offline (GOPROXY=off).
 */
export function goInteropPeers(): GoInteropPeers {
  const version = debianVersion(GRPC_GO_DEV);
  const goVersion = mustRun("go", ["env", "GOVERSION"]).trim();
  const cache = join(repoRoot, "node_modules/.cache/grpc-interop", `grpc-go-${version}-${goVersion}`);
  const client = join(cache, "interop-client");
  const server = join(cache, "interop-server");
  if (existsSync(client) && existsSync(server)) return { client, server, version, buildMs: undefined };
  const started = performance.now();
  const work = mkdtempSync(join(tmpdir(), "moby-grpc-go-"));
  try {
    downloadDebianSource(GRPC_GO_SOURCE, version, work);
    const upstream = version.replace(/-[^-]+$/, "");
    const tarball = readdirSync(work).find((name) => name.startsWith(`${GRPC_GO_SOURCE}_${upstream}.orig.tar`));
    if (tarball === undefined) throw new Error(`apt-get source ${GRPC_GO_SOURCE}=${version} gave no .orig tarball in ${work}`);
    const gopath = join(work, "gopath");
    const grpcDir = join(gopath, "src/google.golang.org/grpc");
    mkdirSync(grpcDir, { recursive: true });
    mustRun("tar", ["-xf", join(work, tarball), "-C", grpcDir, "--strip-components=1"]);
    const env = {
      ...process.env,
      GO111MODULE: "off",
      GOPATH: `${gopath}:${DEBIAN_GOPATH}`,
      GOCACHE: join(work, "gocache"),
      GOFLAGS: "",
      GOPROXY: "off",
      CGO_ENABLED: "0",
    };
    const staging = join(work, "bin");
    mustRun("go", ["build", "-o", join(staging, "interop-client"), "google.golang.org/grpc/interop/client"], { cwd: gopath, env });
    mustRun("go", ["build", "-o", join(staging, "interop-server"), "google.golang.org/grpc/interop/server"], { cwd: gopath, env });
    mkdirSync(join(cache, ".."), { recursive: true });
    rmSync(cache, { recursive: true, force: true });
    renameSync(staging, cache);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { client, server, version, buildMs: Math.round(performance.now() - started) };
}

/** gRPC C-core's interop client and server, as ruby-grpc ships them. */
export interface RubyInteropPeers {
  client: string;
  server: string;
  version: string;
}

/** The Ruby interop programs of the installed ruby-grpc; throws naming the package when it is missing. */
export function rubyInteropPeers(): RubyInteropPeers {
  const version = debianVersion("ruby-grpc");
  const gemDir = mustRun("ruby", ["-e", 'print Gem::Specification.find_by_name("grpc").gem_dir']);
  const client = join(gemDir, "src/ruby/pb/test/client.rb");
  const server = join(gemDir, "src/ruby/pb/test/server.rb");
  if (!existsSync(client) || !existsSync(server)) throw new Error(`ruby-grpc ${version} has no interop client and server under ${gemDir}/src/ruby/pb/test`);
  return { client, server, version };
}

/** How a peer process ended, and everything it printed. */
export interface PeerOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/**
 * A peer process started by a test, in the test's process group (so it
 * ends with the test on a Ctrl-C) and as an OwnedProcess (so it dies with the
 * test process, and a peer that is not installed fails naming it), stopped by
 * its id. socat's per-connection children end with their connections.
 */
export class PeerProcess {
  /** Resolves when the process has exited (children it forked may still hold its output open). */
  readonly exited: Promise<PeerOutcome>;
  /** Resolves when the process has exited and its output is all read. */
  readonly closed: Promise<PeerOutcome>;
  private readonly process: OwnedProcess;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.process = new OwnedProcess(command, args, { env: { ...process.env, ...env } });
    this.exited = this.process.exited.then(({ code, signal }) => ({ code, signal, output: this.output }));
    this.closed = new Promise((resolve) => {
      this.process.child.once("close", (code, signal) => resolve({ code, signal, output: this.output }));
      void this.process.exited.then(() => {
        if (this.process.child.pid === undefined) resolve({ code: null, signal: null, output: this.output });
      });
    });
  }

  /** Everything the process wrote to stdout and stderr so far. */
  get output(): string {
    return this.process.output;
  }

  /** The process id. */
  get pid(): number {
    return this.process.pid!;
  }

  /** Sends signal to the process and waits for it to exit (SIGKILLed if it has not after a grace period). */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<PeerOutcome> {
    const { code, signal: ended } = await this.process.stop(signal);
    return { code, signal: ended, output: this.output };
  }
}

/** How long a peer run to its end may take before it is killed, so that a hung case fails instead of hanging the run, in ms. */
const PEER_RUN_LIMIT_MS = 120_000;

/** Runs a peer to its end (an interop client running one case); killed, with its output kept, past PEER_RUN_LIMIT_MS. */
export async function runPeer(command: string, args: string[]): Promise<PeerOutcome> {
  const peer = new PeerProcess(command, args);
  const guard = setTimeout(() => void peer.stop("SIGKILL"), PEER_RUN_LIMIT_MS);
  try {
    return await peer.closed;
  } finally {
    clearTimeout(guard);
  }
}


/** Resolves once something accepts connections on 127.0.0.1:port; rejects if peer exits first or after timeoutMs. */
export async function waitForPort(port: number, peer: PeerProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void peer.exited.then(() => (exited = true), () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`pid ${peer.pid} exited before listening on port ${port}:\n${peer.output}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms:\n${peer.output}`);
}

/** Resolves once the unix socket file path exists; rejects if peer exits first or after timeoutMs. */
export async function waitForSocketFile(path: string, peer: PeerProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void peer.exited.then(() => (exited = true), () => (exited = true));
  while (!existsSync(path)) {
    if (exited) throw new Error(`pid ${peer.pid} exited before listening on ${path}:\n${peer.output}`);
    if (Date.now() > deadline) throw new Error(`nothing listened on ${path} within ${timeoutMs} ms:\n${peer.output}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** socat forwarding TCP connections to 127.0.0.1:port to the unix socket socketPath. */
export function tcpToUnix(port: number, socketPath: string): PeerProcess {
  return new PeerProcess("socat", [`TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork`, `UNIX-CONNECT:${socketPath}`]);
}

/** socat forwarding connections to the unix socket socketPath to 127.0.0.1:port. */
export function unixToTcp(socketPath: string, port: number): PeerProcess {
  return new PeerProcess("socat", [`UNIX-LISTEN:${socketPath},fork`, `TCP:127.0.0.1:${port}`]);
}
