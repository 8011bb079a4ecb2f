/**
 * @moby-core/sdk/list: the helpers of list and get APIs, for authors of
 * components with standard methods (AIP-131..135, 158, 160): identifiers,
 * containerd's filter grammar, page tokens and page sizes, durations.
 */
export { DEFAULT_PAGE_SIZE, MAX_FILTER_LENGTH, MAX_PAGE_SIZE, effectivePageSize } from "./limits.js";
export { matchesFilter, parseFilter } from "./filter.js";
export type { FieldReader, Filter, FilterFields, Pattern, Selector } from "./filter.js";
export { MAX_ID_LENGTH, checkId, checkOptionalId, isId } from "./identifiers.js";
export { PageTokens, loadOrCreateKey } from "./page-token.js";
export { formatDuration, notADurationMessage, parseDuration } from "./duration.js";
