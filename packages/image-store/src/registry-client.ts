/**
 * A client of the OCI distribution spec: manifests by tag or digest, blobs
 * by digest, with the auth registries ask for (anonymous, basic, bearer
 * token challenges, tokens cached per repository scope), redirects followed
 * by hand (credentials are never sent to another host), and retries of
 * failed connections and 5xx/429 answers. Plain HTTP only for registries the
 * configuration names as insecure, and for localhost.
 */
import { Code } from "@connectrpc/connect";
import { ComponentError, NotFoundError, UnavailableError } from "@moby-core/sdk";
import { parseChallenges } from "./auth-challenge.js";
import type { Challenge } from "./auth-challenge.js";
import { DEFAULT_REGISTRY } from "./image-reference.js";
import { MANIFEST_ACCEPT } from "./media-types.js";
import type { Credentials } from "./registry-credentials.js";
import { registryGet } from "./registry-http.js";
import type { RegistryResponse } from "./registry-http.js";

/** The most bytes of a manifest or index read from a registry (4 MiB, as containerd). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** How many times a request is tried when the connection fails or the registry answers 5xx or 429. */
export const DEFAULT_ATTEMPTS = 4;
/** The most redirects followed for one request. */
const MAX_REDIRECTS = 5;

/** How the client reaches registries. */
export interface RegistryClientOptions {
  /** Credentials per registry host. */
  credentials: Map<string, Credentials>;
  /** Hosts ("host" or "host:port") reached over plain HTTP. */
  insecure: ReadonlySet<string>;
  /** Tries per request (DEFAULT_ATTEMPTS). */
  attempts?: number;
  /** The first retry's delay in ms, doubled each time (100). */
  retryDelayMs?: number;
}

/** A manifest or index as the registry returned it. */
export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
}

function isLocalhost(host: string): boolean {
  const name = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return name === "localhost" || name === "::1" || /^127\./.test(name);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}

/** The error a registry status means, named for the request. */
function statusError(status: number, what: string): ComponentError {
  if (status === 401) return new ComponentError(Code.Unauthenticated, `${what}: the registry wants credentials (401); none or wrong ones are configured`);
  if (status === 403) return new ComponentError(Code.PermissionDenied, `${what}: the registry refused access (403)`);
  if (status === 404) return new NotFoundError(`${what}: not found in the registry (404)`);
  if (status === 429 || status >= 500) return new UnavailableError(`${what}: the registry answered ${status}`);
  return new ComponentError(Code.Unknown, `${what}: the registry answered ${status}`);
}

/** Talks to registries of the OCI distribution spec. */
export class RegistryClient {
  private readonly tokens = new Map<string, string>();
  private readonly basic = new Set<string>();
  private readonly attempts: number;
  private readonly retryDelayMs: number;

  constructor(private readonly options: RegistryClientOptions) {
    this.attempts = options.attempts ?? DEFAULT_ATTEMPTS;
    this.retryDelayMs = options.retryDelayMs ?? 100;
  }

  /** The base URL of a registry host: https, or http for insecure and local hosts. */
  baseUrl(host: string): string {
    const scheme = this.options.insecure.has(host) || isLocalhost(host) ? "http" : "https";
    return `${scheme}://${host === DEFAULT_REGISTRY ? "registry-1.docker.io" : host}`;
  }

  /** Pings /v2/: resolves when the registry speaks the distribution API (authenticating if asked). */
  async ping(host: string, signal?: AbortSignal): Promise<void> {
    const response = await this.request(host, "", "/v2/", {}, signal);
    response.discard();
  }

  /** Fetches a manifest or index by tag or digest. */
  async manifest(host: string, repository: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest> {
    const what = `manifest ${host}/${repository}:${reference}`;
    const response = await this.request(host, repository, `/v2/${repository}/manifests/${reference}`, { accept: MANIFEST_ACCEPT }, signal, what);
    const declared = Number(response.header("content-length") ?? "0");
    if (declared > MAX_MANIFEST_BYTES) {
      response.discard();
      throw new ComponentError(Code.FailedPrecondition, `${what}: ${declared} bytes, more than the ${MAX_MANIFEST_BYTES} a manifest may have`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (size > MAX_MANIFEST_BYTES) {
        response.discard();
        throw new ComponentError(Code.FailedPrecondition, `${what}: more than the ${MAX_MANIFEST_BYTES} bytes a manifest may have`);
      }
      chunks.push(chunk);
    }
    const bytes = Buffer.concat(chunks);
    let mediaType = (response.header("content-type") ?? "").split(";")[0]!.trim();
    try {
      const inner = (JSON.parse(bytes.toString("utf8")) as { mediaType?: unknown }).mediaType;
      if (typeof inner === "string" && inner !== "") mediaType = inner;
    } catch {
      throw new ComponentError(Code.DataLoss, `${what}: the registry returned something that is not JSON`);
    }
    return { bytes, mediaType };
  }

  /** Opens a blob; the caller reads (and verifies) the body. */
  async blob(host: string, repository: string, digest: string, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
    const response = await this.request(host, repository, `/v2/${repository}/blobs/${digest}`, {}, signal, `blob ${digest} of ${host}/${repository}`);
    return response.body;
  }

  /** A GET with auth, redirects and retries; resolves with a 2xx response. */
  private async request(host: string, repository: string, path: string, headers: Record<string, string>, signal?: AbortSignal, what = `${host}${path}`): Promise<RegistryResponse> {
    const scope = repository ? `repository:${repository}:pull` : "";
    let lastError: unknown;
    let authenticated = false;
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      if (attempt > 0) await sleep(this.retryDelayMs * 2 ** (attempt - 1), signal);
      let response: RegistryResponse;
      try {
        response = await this.follow(host, `${this.baseUrl(host)}${path}`, { ...headers, ...this.authorization(host, scope) }, signal);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        lastError = new UnavailableError(`${what}: cannot reach the registry (${(error as Error).message})`);
        continue;
      }
      if (response.ok) return response;
      response.discard();
      if (response.status === 401 && !authenticated) {
        authenticated = true;
        await this.authenticate(host, scope, parseChallenges(response.header("www-authenticate") ?? ""), what, signal);
        attempt--;
        continue;
      }
      lastError = statusError(response.status, what);
      if (!(response.status === 429 || response.status >= 500)) throw lastError;
    }
    throw lastError;
  }

  /** Follows redirects by hand, dropping the Authorization header when the host changes. */
  private async follow(host: string, url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<RegistryResponse> {
    let current = new URL(url);
    const origin = current.host;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const sent = { ...headers };
      if (current.host !== origin) delete sent.authorization;
      const response = await registryGet(current, sent, signal);
      if (response.status < 300 || response.status >= 400 || response.status === 304) return response;
      const location = response.header("location");
      response.discard();
      if (!location) return response;
      current = new URL(location, current);
    }
    throw new UnavailableError(`${host}: more than ${MAX_REDIRECTS} redirects`);
  }

  private authorization(host: string, scope: string): Record<string, string> {
    const token = this.tokens.get(`${host} ${scope}`);
    if (token) return { authorization: `Bearer ${token}` };
    const credentials = this.options.credentials.get(host);
    if (credentials && this.basic.has(host)) return { authorization: basicHeader(credentials) };
    return {};
  }

  /** Answers a 401's challenges: basic with the configured credentials, or a bearer token from the realm. */
  private async authenticate(host: string, scope: string, challenges: Challenge[], what: string, signal?: AbortSignal): Promise<void> {
    const credentials = this.options.credentials.get(host);
    const bearer = challenges.find((c) => c.scheme === "bearer");
    if (bearer?.params.realm) {
      const url = new URL(bearer.params.realm);
      if (bearer.params.service) url.searchParams.set("service", bearer.params.service);
      const wanted = scope || bearer.params.scope;
      if (wanted) url.searchParams.set("scope", wanted);
      const response = await fetch(url, { headers: credentials ? { authorization: basicHeader(credentials) } : {}, signal }).catch((error: Error) => {
        throw new UnavailableError(`${what}: cannot reach the token service ${url.origin} (${error.message})`);
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw statusError(response.status === 400 ? 401 : response.status, `${what}: token service`);
      }
      const body = (await response.json()) as { token?: string; access_token?: string };
      const token = body.token || body.access_token;
      if (!token) throw new ComponentError(Code.Unauthenticated, `${what}: the token service returned no token`);
      this.tokens.set(`${host} ${scope}`, token);
      return;
    }
    if (challenges.some((c) => c.scheme === "basic")) {
      if (!credentials) throw new ComponentError(Code.Unauthenticated, `${what}: the registry wants a username and password, and none is configured for ${host}`);
      this.basic.add(host);
      return;
    }
    throw new ComponentError(Code.Unauthenticated, `${what}: the registry answered 401 without a challenge this client knows`);
  }
}

function basicHeader(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
}
