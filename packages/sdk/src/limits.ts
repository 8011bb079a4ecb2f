/**
 * The limits of the assembly, in one place: message sizes, page sizes,
 * filter lengths and stop timeouts, as the protos document them. Every
 * component and the CLI read them from here, so a limit is never stated
 * twice with two values.
 */

/** Default request and response size limit, in bytes: 4 MiB, as gRPC's. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** The page size of a List call that sets none (page_size 0), as the List RPCs document. */
export const DEFAULT_PAGE_SIZE = 100;

/** The largest page of a List call; a larger page_size is treated as this (AIP-158). */
export const MAX_PAGE_SIZE = 1000;

/** The page size to serve for a requested page_size: the default for 0, at most MAX_PAGE_SIZE. */
export function effectivePageSize(requested: number): number {
  return requested === 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
}

/** The longest filter accepted, in bytes of UTF-8 (a longer one is INVALID_ARGUMENT). */
export const MAX_FILTER_LENGTH = 4096;

/** The longest stop timeout the supervisor API takes (StopComponent, RestartComponent), in ms: 10 minutes. */
export const MAX_STOP_TIMEOUT_MS = 10 * 60 * 1000;
