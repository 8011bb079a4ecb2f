/**
 * The limits of the assembly, in one place: message sizes, page sizes,
 * filter lengths and stop timeouts, as the protos document them. Every
 * component and the CLI read them from here, so a limit is never stated
 * twice with two values.
 */

/** Default request and response size limit, in bytes: 4 MiB, as gRPC's. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
