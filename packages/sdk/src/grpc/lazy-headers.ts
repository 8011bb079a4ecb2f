/**
 * Web Headers that cost nothing until used: the metadata of a call reaches
 * handlers, interceptors and clients as the Headers connect's API promises,
 * but is copied out of node:http2's header object only when someone reads
 * it, and an untouched outgoing Headers is known to be empty without
 * iterating it.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";

/** The first character of HTTP/2 pseudo-headers (":path"), which are not metadata. */
const COLON = 58;

/**
 * A Headers filled from a node:http2 header object on first use; pseudo
 * headers are left out. `touched` tells whether anything was ever added,
 * set or read, so a sender can skip an outgoing Headers nobody wrote to.
 */
export class LazyHeaders extends Headers {
  #source: IncomingHttpHeaders | undefined;
  #filled = false;
  #touched = false;

  /** Headers that copy source (when given) at first use. */
  constructor(source?: IncomingHttpHeaders) {
    super();
    this.#source = source;
  }

  /** Whether any method was called: false means still empty, or still only the source. */
  get touched(): boolean {
    return this.#touched;
  }

  /** Whether it is surely empty: nothing was ever written to it, and it has no source to copy. */
  get pristine(): boolean {
    return !this.#touched && this.#source === undefined;
  }

  /** Adds the fields of source, now or at first use: trailers that arrive after the Headers was handed out. */
  deliver(source: IncomingHttpHeaders): void {
    if (!this.#filled && this.#source === undefined) this.#source = source;
    else {
      this.#fill();
      copyFields(source, (key, value) => super.append(key, value));
    }
  }

  #fill(): void {
    this.#touched = true;
    if (this.#filled) return;
    this.#filled = true;
    const source = this.#source;
    if (source === undefined) return;
    this.#source = undefined;
    copyFields(source, (key, value) => super.append(key, value));
  }

  override append(name: string, value: string): void {
    this.#fill();
    super.append(name, value);
  }
  override delete(name: string): void {
    this.#fill();
    super.delete(name);
  }
  override get(name: string): string | null {
    this.#fill();
    return super.get(name);
  }
  override getSetCookie(): string[] {
    this.#fill();
    return super.getSetCookie();
  }
  override has(name: string): boolean {
    this.#fill();
    return super.has(name);
  }
  override set(name: string, value: string): void {
    this.#fill();
    super.set(name, value);
  }
  override forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    this.#fill();
    super.forEach(callback, thisArg);
  }

  // entries, keys, values and the iterator fill first too. They are set up
  // here because the DOM library this package compiles with does not declare
  // Headers' iteration methods.
  static {
    const base = Headers.prototype as unknown as Record<PropertyKey, (this: Headers) => unknown>;
    for (const name of ["entries", "keys", "values", Symbol.iterator] as const) {
      const original = base[name];
      if (typeof original !== "function") continue;
      Object.defineProperty(LazyHeaders.prototype, name, {
        value: function (this: LazyHeaders) {
          this.#fill();
          return original.call(this);
        },
        writable: true,
        configurable: true,
      });
    }
  }
}

/** Calls add for every value of every field of source but pseudo headers. */
function copyFields(source: IncomingHttpHeaders, add: (key: string, value: string) => void): void {
  for (const key in source) {
    if (key.charCodeAt(0) === COLON) continue;
    const value = source[key];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) add(key, item);
    else add(key, value);
  }
}

/** The header names node:http2 or gRPC own, which metadata may not set. */
const RESERVED = new Set([
  "connection",
  "content-length",
  "content-type",
  "grpc-encoding",
  "grpc-accept-encoding",
  "grpc-message",
  "grpc-status",
  "grpc-timeout",
  "host",
  "http2-settings",
  "keep-alive",
  "proxy-connection",
  "te",
  "transfer-encoding",
  "upgrade",
]);

/**
 * Adds the metadata in headers to target, an outgoing node:http2 header
 * object, and returns target. Skips surely-empty LazyHeaders, pseudo
 * headers and the names the protocol owns. A name already in target gets
 * the new value joined after a comma, as HTTP and gRPC allow (node:http2
 * refuses several fields for names like etag or location).
 */
export function addMetadata(target: OutgoingHttpHeaders, headers: Headers | undefined): OutgoingHttpHeaders {
  if (headers === undefined || (headers instanceof LazyHeaders && headers.pristine)) return target;
  headers.forEach((value, key) => {
    if (key.charCodeAt(0) === COLON || RESERVED.has(key)) return;
    const existing = target[key];
    target[key] = existing === undefined ? value : `${String(existing)}, ${value}`;
  });
  return target;
}
