/**
 * Signed page tokens for keyset pagination: opaque to the client, a token
 * carries the last key a page covered and a digest of the filter the listing
 * uses, signed with the issuer's key. Kept with the issuer (in a database, or
 * in a file through loadOrCreateKey), the key makes tokens survive restarts;
 * they do not expire. A token the issuer did not make, or used with another
 * filter, is INVALID_ARGUMENT naming "page_token".
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { InvalidArgumentError } from "./errors.js";

/** The request field tokens arrive in. */
const FIELD = "page_token";
/** The token format's version. */
const VERSION = 1;
/** The longest token accepted, in characters; real ones are far shorter. */
const MAX_TOKEN_LENGTH = 512;
/** The bytes of the signature kept in a token. */
const SIGNATURE_BYTES = 16;
/** The fewest bytes of a signing key. */
const MIN_KEY_BYTES = 16;
/** The bytes of a key made by loadOrCreateKey. */
const KEY_BYTES = 32;

interface Payload {
  v: number;
  /** The last key the listing has covered: the next page starts after it. */
  after: string;
  /** The digest of the filter text. */
  filter: string;
}

/** The digest of a filter's text, as a token carries it. */
function filterDigest(filter: string): string {
  return createHash("sha256").update(filter, "utf8").digest("base64url").slice(0, 22);
}

/** The 32-byte signing key in the file at path; a new one is written there (mode 0600, atomically, its directory made 0700 when missing) when it is missing or not 32 bytes. */
export function loadOrCreateKey(path: string): Buffer {
  try {
    const key = readFileSync(path);
    if (key.byteLength === KEY_BYTES) return key;
  } catch {
    // made below
  }
  const key = randomBytes(KEY_BYTES);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(`${path}.tmp`, key, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return key;
}

/** Makes and reads the page tokens of one issuer, signed with its key. */
export class PageTokens {
  /** key: at least 16 bytes; issuer: how refusals name the token's maker, as in "is not a token returned by this service". */
  constructor(
    private readonly key: Uint8Array,
    private readonly issuer = "this service",
  ) {
    if (key.byteLength < MIN_KEY_BYTES) throw new Error(`a page token key has at least ${MIN_KEY_BYTES} bytes`);
  }

  private sign(body: string): Buffer {
    return createHmac("sha256", this.key).update(body, "utf8").digest().subarray(0, SIGNATURE_BYTES);
  }

  /** The token for the page after key `after` of a listing with filter. */
  encode(after: string, filter: string): string {
    const payload: Payload = { v: VERSION, after, filter: filterDigest(filter) };
    const body = Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
    return `${body}.${this.sign(body).toString("base64url")}`;
  }

  /** The key a token's page starts after; INVALID_ARGUMENT naming page_token for a foreign token or another filter. */
  decode(token: string, filter: string): string {
    const foreign = () => new InvalidArgumentError(FIELD, `is not a token returned by ${this.issuer}`);
    if (token.length > MAX_TOKEN_LENGTH) throw foreign();
    const [body, signature, extra] = token.split(".");
    if (body === undefined || signature === undefined || extra !== undefined || body === "") throw foreign();
    const given = Buffer.from(signature, "base64url");
    const expected = this.sign(body);
    if (given.byteLength !== expected.byteLength || !timingSafeEqual(given, expected)) throw foreign();
    let payload: Payload;
    try {
      payload = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as Payload;
    } catch {
      throw foreign();
    }
    if (payload.v !== VERSION || typeof payload.after !== "string" || typeof payload.filter !== "string") throw foreign();
    if (payload.filter !== filterDigest(filter)) {
      throw new InvalidArgumentError(FIELD, "was returned for another filter: continue a listing with the filter it started with");
    }
    return payload.after;
  }
}
