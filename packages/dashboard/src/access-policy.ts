/**
 * Who may use the dashboard. Every request: the Host header must name the
 * dashboard itself when it listens on loopback only (so a web page of
 * another site cannot reach it through DNS rebinding), and an Origin header,
 * which browsers send on cross-origin and on POST requests, must be the
 * dashboard's own origin, http://<Host>: else 403, before any RPC runs. The
 * mutating RPCs also need "Authorization: Bearer <token>" when a token is
 * configured or the dashboard listens beyond loopback (then, without a
 * configured token, one is made at random and logged once at start). The
 * token is never in the page: the operator types it in.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";

/** What the checks need to know. */
export interface AccessPolicy {
  /** The Host header values accepted (host:port); undefined accepts any (the dashboard listens on every address). */
  hosts: Set<string> | undefined;
  /** The bearer token of the mutating calls; undefined when they need none. */
  token: string | undefined;
}

/** Whether host (an IP literal or "localhost") is a loopback address. */
export function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
}

/** Whether host is a wildcard address (every interface). */
function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::";
}

/** host:port as a Host header writes it (an IPv6 literal in brackets). */
function hostHeader(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The policy of a dashboard listening on host:port with the configured
 * token; `generated` is the random token made when one is needed and none
 * was configured (to log once).
 */
export function accessPolicy(host: string, port: number, configuredToken: string | undefined): { policy: AccessPolicy; generated?: string } {
  const loopback = isLoopback(host);
  const hosts = isWildcard(host)
    ? undefined
    : new Set([hostHeader(host, port), ...(loopback ? [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`] : [])]);
  if (configuredToken !== undefined || loopback) return { policy: { hosts, token: configuredToken } };
  const generated = randomBytes(24).toString("base64url");
  return { policy: { hosts, token: generated }, generated };
}

/** Why a request with these headers is refused (the 403's message), or undefined when it may go on. */
export function refusal(policy: AccessPolicy, host: string | undefined, origin: string | undefined): string | undefined {
  if (host === undefined || host === "") return "the request has no Host header";
  if (policy.hosts !== undefined && !policy.hosts.has(host.toLowerCase())) return `Host ${JSON.stringify(host)} is not this dashboard`;
  if (origin !== undefined && origin.toLowerCase() !== `http://${host.toLowerCase()}`) return `Origin ${JSON.stringify(origin)} is not this dashboard's (http://${host})`;
  return undefined;
}

/** Whether an Authorization header carries the policy's token (always true when none is needed); compared in constant time. */
export function authorized(policy: AccessPolicy, authorization: string | undefined): boolean {
  if (policy.token === undefined) return true;
  const match = /^Bearer (\S+)$/.exec(authorization ?? "");
  if (match === null) return false;
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(policy.token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
