/**
 * ListContainers page tokens: opaque to the client, they carry the last id a
 * page covered and a digest of the filter the listing uses, signed with the
 * store's key (kept in its database, so tokens survive restarts and do not
 * expire). A token that was not made by this store, or is used with another
 * filter, is INVALID_ARGUMENT naming "page_token".
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { InvalidArgumentError } from "@moby-core/sdk";

/** The request field tokens arrive in. */
const FIELD = "page_token";
/** The token format's version. */
const VERSION = 1;
/** The longest token accepted, in characters; real ones are far shorter. */
const MAX_TOKEN_LENGTH = 512;
/** The bytes of the signature kept in a token. */
const SIGNATURE_BYTES = 16;

interface Payload {
  v: number;
  /** The last id the listing has covered: the next page starts after it. */
  after: string;
  /** The digest of the filter text. */
  filter: string;
}

/** The digest of a filter's text, as a token carries it. */
function filterDigest(filter: string): string {
  return createHash("sha256").update(filter, "utf8").digest("base64url").slice(0, 22);
}

/** Makes and reads page tokens with one signing key. */
export class PageTokens {
  constructor(private readonly key: Uint8Array) {
    if (key.byteLength < 16) throw new Error("a page token key has at least 16 bytes");
  }

  private sign(body: string): Buffer {
    return createHmac("sha256", this.key).update(body, "utf8").digest().subarray(0, SIGNATURE_BYTES);
  }

  /** The token for the page after id `after` of a listing with filter. */
  encode(after: string, filter: string): string {
    const payload: Payload = { v: VERSION, after, filter: filterDigest(filter) };
    const body = Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
    return `${body}.${this.sign(body).toString("base64url")}`;
  }

  /** The id a token's page starts after; throws INVALID_ARGUMENT naming page_token for a foreign token or another filter. */
  decode(token: string, filter: string): string {
    const foreign = () => new InvalidArgumentError(FIELD, "is not a token returned by this service");
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
