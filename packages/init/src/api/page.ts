/**
 * AIP-158 pagination over a list that init holds in memory: page_size with
 * the assembly's default and cap (effectivePageSize), and an opaque page_token.
 */
import { InvalidArgumentError } from "@moby-core/sdk";
import { effectivePageSize } from "@moby-core/sdk/list";

const TOKEN_PREFIX = "moby-init:";

/** One page of items and the token for the next, empty at the end. */
export function paginate<T>(items: T[], pageSize: number, pageToken: string): { items: T[]; nextPageToken: string } {
  let offset = 0;
  if (pageToken !== "") {
    const decoded = Buffer.from(pageToken, "base64url").toString();
    const parsed = decoded.startsWith(TOKEN_PREFIX) ? Number(decoded.slice(TOKEN_PREFIX.length)) : NaN;
    if (!Number.isSafeInteger(parsed) || parsed < 0) throw new InvalidArgumentError("page_token", "not a token this service issued");
    offset = parsed;
  }
  const size = effectivePageSize(pageSize);
  const end = offset + size;
  return {
    items: items.slice(offset, end),
    nextPageToken: end < items.length ? Buffer.from(`${TOKEN_PREFIX}${end}`).toString("base64url") : "",
  };
}
