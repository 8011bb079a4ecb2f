/**
 * A bearer token service for a test registry, as the distribution spec's
 * token authentication describes it: GET /token?service=...&scope=... with
 * the user's basic credentials answers a JWT (ES256, its certificate in the
 * x5c header) granting the scopes asked for, which docker-registry checks
 * against the certificate it is configured to trust. Anonymous requests get
 * a token granting nothing, as Docker Hub's service answers for a private
 * repository; wrong credentials get 401. Every request is recorded (user,
 * scope), never the password.
 */
import { execFileSync } from "node:child_process";
import { X509Certificate, createPrivateKey, randomUUID, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { Server } from "node:http";
import { join } from "node:path";

/** What the token service was asked for. */
export interface TokenRequest {
  /** The user of the basic credentials; undefined when anonymous. */
  user: string | undefined;
  /** The scopes asked for, as sent. */
  scope: string[];
  /** The service named. */
  service: string;
}

/** How long a token is valid, in seconds. */
const TOKEN_SECONDS = 300;

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/** A running token service on 127.0.0.1. */
export class TokenServer {
  /** The registry's service name: the token's audience. */
  readonly service = "moby-test-registry";
  /** The token's issuer. */
  readonly issuer = "moby-test-token-service";
  /** The PEM certificate the registry trusts (rootcertbundle). */
  readonly certificateFile: string;
  /** The URL to put in the registry's realm; set by start(). */
  realm = "";
  /** Every request served, in order. */
  readonly requests: TokenRequest[] = [];
  private readonly keyFile: string;
  private server: Server | undefined;

  constructor(
    dir: string,
    private readonly users: Record<string, string>,
  ) {
    this.keyFile = join(dir, "token.key");
    this.certificateFile = join(dir, "token.crt");
  }

  /** Makes a P-256 key and its self-signed certificate with openssl, and starts serving. */
  async start(): Promise<void> {
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", this.keyFile, "-out", this.certificateFile, "-days", "1", "-subj", "/CN=moby-test-token-service"], { stdio: "pipe" });
    const key = createPrivateKey(readFileSync(this.keyFile));
    const certificate = new X509Certificate(readFileSync(this.certificateFile));
    const header = base64url(JSON.stringify({ typ: "JWT", alg: "ES256", x5c: [certificate.raw.toString("base64")] }));
    this.server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://token");
      const scope = url.searchParams.getAll("scope");
      const service = url.searchParams.get("service") ?? "";
      const authorization = request.headers.authorization ?? "";
      let user: string | undefined;
      if (authorization.startsWith("Basic ")) {
        const [name, ...rest] = Buffer.from(authorization.slice(6), "base64").toString().split(":");
        if (name === undefined || this.users[name] !== rest.join(":")) {
          this.requests.push({ user: name, scope, service });
          response.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "wrong username or password" }] }));
          return;
        }
        user = name;
      }
      this.requests.push({ user, scope, service });
      const now = Math.floor(Date.now() / 1000);
      // An anonymous user is granted nothing: the registry then answers 401 insufficient_scope.
      const access = user === undefined ? [] : scope.map((s) => s.split(":")).filter((p) => p.length === 3 && p[0] === "repository").map(([type, name, actions]) => ({ type, name, actions: actions!.split(",") }));
      const claims = base64url(JSON.stringify({ iss: this.issuer, sub: user ?? "", aud: service, exp: now + TOKEN_SECONDS, nbf: now - 10, iat: now, jti: randomUUID(), access }));
      const signature = sign("sha256", Buffer.from(`${header}.${claims}`), { key, dsaEncoding: "ieee-p1363" });
      const token = `${header}.${claims}.${base64url(signature)}`;
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token, access_token: token, expires_in: TOKEN_SECONDS, issued_at: new Date(now * 1000).toISOString() }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.realm = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/token`;
  }

  /** Stops serving and closes every connection. */
  async stop(): Promise<void> {
    if (this.server === undefined) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server!.close(resolve));
  }
}
