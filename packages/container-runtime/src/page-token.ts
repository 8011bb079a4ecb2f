/**
 * ListTasks page tokens: opaque to the client, they carry the last container
 * id a page covered and a digest of the filter, signed with the runtime's
 * key (kept in its state directory, so tokens survive restarts). A token not
 * made by this runtime, or used with another filter, is INVALID_ARGUMENT
 * naming "page_token".
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { InvalidArgumentError } from "@moby-core/sdk";

const FIELD = "page_token";
const VERSION = 1;
const MAX_TOKEN_LENGTH = 512;
const SIGNATURE_BYTES = 16;
const KEY_BYTES = 32;

interface Payload {
  v: number;
  after: string;
  filter: string;
}

function filterDigest(filter: string): string {
  return createHash("sha256").update(filter, "utf8").digest("base64url").slice(0, 22);
}

/** The signing key kept at path, made on first use. */
export function loadTokenKey(path: string): Buffer {
  try {
    const key = readFileSync(path);
    if (key.byteLength === KEY_BYTES) return key;
  } catch {
    // made below
  }
  const key = randomBytes(KEY_BYTES);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, key, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  return key;
}

/** Makes and reads page tokens with one signing key. */
export class PageTokens {
  constructor(private readonly key: Uint8Array) {}

  private sign(body: string): Buffer {
    return createHmac("sha256", this.key).update(body, "utf8").digest().subarray(0, SIGNATURE_BYTES);
  }

  /** The token for the page after id `after` of a listing with filter. */
  encode(after: string, filter: string): string {
    const payload: Payload = { v: VERSION, after, filter: filterDigest(filter) };
    const body = Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
    return `${body}.${this.sign(body).toString("base64url")}`;
  }

  /** The id a token's page starts after. */
  decode(token: string, filter: string): string {
    const foreign = () => new InvalidArgumentError(FIELD, "is not a token returned by this runtime");
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
