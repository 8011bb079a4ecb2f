/**
 * GET requests to registries on node:http and node:https, with kept-alive
 * connections per scheme. A blob's body is read as the Node stream of its
 * socket's reads: for the tens of megabytes of a layer this costs a fraction
 * of fetch's web streams, whose per-chunk machinery ran on the main thread
 * beside the blob's hashing.
 */
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import type { IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** A registry's answer: its status, its headers, and its body to read or discard. */
export interface RegistryResponse {
  status: number;
  /** Whether the status is 2xx. */
  ok: boolean;
  /** The value of a header (lower-case name), or undefined. */
  header(name: string): string | undefined;
  /** The body, as it arrives. */
  body: IncomingMessage;
  /** Drops the body unread (the connection is closed, not reused). */
  discard(): void;
}

const agents = { "http:": new HttpAgent({ keepAlive: true }), "https:": new HttpsAgent({ keepAlive: true }) };

/** GETs url with headers; resolves once the status and headers arrived. signal aborts the request and its body. */
export function registryGet(url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<RegistryResponse> {
  if (url.protocol !== "http:" && url.protocol !== "https:") return Promise.reject(new Error(`${url.href}: only http and https are supported`));
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(url, { method: "GET", headers, agent: agents[url.protocol as "http:" | "https:"], signal }, (body) => {
      const status = body.statusCode ?? 0;
      resolve({
        status,
        ok: status >= 200 && status < 300,
        header: (name) => {
          const value = body.headers[name];
          return Array.isArray(value) ? value.join(", ") : value;
        },
        body,
        discard: () => body.destroy(),
      });
    });
    request.once("error", reject);
    request.end();
  });
}
