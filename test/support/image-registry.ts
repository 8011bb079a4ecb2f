/**
 * A real registry for tests: Debian's docker-registry (the CNCF distribution
 * registry) on 127.0.0.1 with a throwaway storage directory, optionally with
 * basic auth (an htpasswd file of bcrypt hashes made with bcryptjs) or with
 * bearer tokens from a TokenServer. Its log
 * is kept, so a test can count the requests it served. Pushing goes through
 * the distribution API, as any client would. The registry is an
 * OwnedProcess: it dies with the test process, a missing docker-registry
 * fails the start naming it, and a start that fails kills it.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import type { TokenServer } from "./token-server.js";
import { freePort } from "./free-port.js";
import { OwnedProcess } from "./owned-process.js";

/** How long the registry may take to answer /v2/ after its start, in ms. */
const READY_TIMEOUT_MS = 30_000;

/** A running docker-registry. */
export class ImageRegistry {
  /** The registry's host:port, for references ("127.0.0.1:PORT/repo:tag"). */
  host = "";
  /** The registry's storage directory. */
  readonly storage: string;
  private process: OwnedProcess | undefined;

  constructor(
    private readonly dir: string,
    private readonly users: Record<string, string> = {},
    /** When set, the registry wants bearer tokens from this service (users then are the service's). */
    private readonly tokens?: TokenServer,
  ) {
    this.storage = join(dir, "storage");
  }

  /** Starts the registry and waits until /v2/ answers. */
  async start(): Promise<void> {
    mkdirSync(this.storage, { recursive: true });
    const port = await freePort();
    this.host = `127.0.0.1:${port}`;
    const auth = this.tokens === undefined && Object.keys(this.users).length > 0;
    if (auth) {
      const lines = Object.entries(this.users).map(([user, password]) => `${user}:${bcrypt.hashSync(password, 10)}`);
      writeFileSync(join(this.dir, "htpasswd"), lines.join("\n") + "\n");
    }
    const config = [
      "version: 0.1",
      "log: { level: info, accesslog: { disabled: false } }",
      `storage: { filesystem: { rootdirectory: ${this.storage} }, delete: { enabled: true } }`,
      `http: { addr: "${this.host}" }`,
      auth ? `auth: { htpasswd: { realm: test-realm, path: ${join(this.dir, "htpasswd")} } }` : "",
      this.tokens
        ? `auth: { token: { realm: "${this.tokens.realm}", service: ${this.tokens.service}, issuer: ${this.tokens.issuer}, rootcertbundle: ${this.tokens.certificateFile} } }`
        : "",
    ].join("\n");
    writeFileSync(join(this.dir, "config.yml"), config + "\n");
    const registry = new OwnedProcess("docker-registry", ["serve", join(this.dir, "config.yml")]);
    this.process = registry;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (!registry.running) throw new Error(`docker-registry exited:\n${this.log}`);
      if (Date.now() > deadline) {
        await registry.stop("SIGKILL");
        throw new Error(`docker-registry did not answer /v2/ within ${READY_TIMEOUT_MS} ms:\n${this.log}`);
      }
      try {
        const response = await fetch(`http://${this.host}/v2/`);
        await response.body?.cancel();
        if (response.status === 200 || response.status === 401) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Everything the registry logged. */
  get log(): string {
    return this.process?.output ?? "";
  }

  /** Stops the registry by its pid and waits for it. */
  async stop(): Promise<void> {
    await this.process?.stop("SIGKILL");
  }

  /** How many GET requests of a blob the registry served (from its access log). */
  blobGets(digest: string): number {
    return this.log.split("\n").filter((line) => /"GET \/v2\/[^ ]+\/blobs\/[^ ]+ HTTP/.test(line) && line.includes(`/blobs/${digest} `)).length;
  }

  /** The Authorization header for user: basic, or a bearer token for pulling and pushing repository. */
  private async headers(repository: string, user?: [string, string]): Promise<Record<string, string>> {
    if (!user) return {};
    const basic = { authorization: `Basic ${Buffer.from(`${user[0]}:${user[1]}`).toString("base64")}` };
    if (this.tokens === undefined) return basic;
    const url = new URL(this.tokens.realm);
    url.searchParams.set("service", this.tokens.service);
    url.searchParams.set("scope", `repository:${repository}:pull,push`);
    const response = await fetch(url, { headers: basic });
    if (!response.ok) throw new Error(`token for ${repository}: ${response.status}`);
    return { authorization: `Bearer ${((await response.json()) as { token: string }).token}` };
  }

  /** Uploads a blob to repository (monolithic upload). */
  async pushBlob(repository: string, bytes: Buffer, user?: [string, string]): Promise<string> {
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    const start = await fetch(`http://${this.host}/v2/${repository}/blobs/uploads/`, { method: "POST", headers: await this.headers(repository, user) });
    await start.body?.cancel();
    if (start.status !== 202) throw new Error(`upload start: ${start.status}`);
    const location = new URL(start.headers.get("location")!, `http://${this.host}`);
    location.searchParams.set("digest", digest);
    const put = await fetch(location, { method: "PUT", body: new Uint8Array(bytes), headers: { ...(await this.headers(repository, user)), "content-type": "application/octet-stream" } });
    await put.body?.cancel();
    if (put.status !== 201) throw new Error(`upload of ${digest}: ${put.status}`);
    return digest;
  }

  /** Puts a manifest or index under a tag or digest. */
  async pushManifest(repository: string, reference: string, mediaType: string, bytes: Buffer, user?: [string, string]): Promise<void> {
    const put = await fetch(`http://${this.host}/v2/${repository}/manifests/${reference}`, { method: "PUT", body: new Uint8Array(bytes), headers: { ...(await this.headers(repository, user)), "content-type": mediaType } });
    const text = await put.text();
    if (put.status !== 201) throw new Error(`manifest ${repository}:${reference}: ${put.status} ${text}`);
  }

  /** The path of a blob's data in the registry's storage (to tamper with it). */
  blobData(digest: string): string {
    const hex = digest.slice("sha256:".length);
    return join(this.storage, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
  }
}
