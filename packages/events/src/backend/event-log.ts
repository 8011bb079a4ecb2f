/**
 * What the events service needs of a log, whichever backend keeps it: append
 * with idempotency, the bounds of what it holds, a replay from a sequence, and
 * the committed events in order as they come. SQLite (sqlite-log.ts) is the
 * embedded default; NATS JetStream (jetstream-log.ts) is for several nodes.
 */

import type { GroupCommit } from "@moby-core/sdk";

/** One event as kept in the log. */
export interface StoredEvent {
  sequence: bigint;
  timeMs: number;
  source: string;
  topic: string;
  typeUrl: string;
  value: Uint8Array;
  /**
   * The event's serialized Envelope without its sequence, where the backend
   * keeps the event so (a JetStream stream message): subscribers are sent
   * these bytes rather than an encoding of the fields above, which it holds.
   */
  encoded?: Uint8Array;
}

/** One event to append. */
export interface NewEvent {
  source: string;
  topic: string;
  typeUrl: string;
  value: Uint8Array;
  /** The publisher's idempotency key, or "" for none. */
  publishId: string;
}

/** What appending one event gave. */
export interface Appended {
  event: StoredEvent;
  /** True when the (source, publish id) pair was seen already: nothing was recorded. */
  duplicate: boolean;
}

/** How much the log keeps; 0 means no bound. */
export interface Retention {
  maxEvents: number;
  maxBytes: number;
  maxAgeMs: number;
}

/** How long a publish id is remembered. */
export const PUBLISH_ID_MEMORY_MS = 24 * 60 * 60 * 1000;

/** What the log holds at one moment. */
export interface LogStatus {
  /** The lowest retained sequence; latest + 1 when the log holds nothing. */
  oldest: bigint;
  /** The highest sequence ever assigned; 0 before the first event. */
  latest: bigint;
  /** How many events the log holds. */
  events: number;
  /** Their size: the sum of their serialized Envelope sizes, in bytes. */
  bytes: number;
}

/** Reads a log forward from a sequence, a page at a time. */
export interface ReplayReader {
  /**
   * Up to limit of the next events, in order, once at least one is there, and
   * at least up to sequence `until` when the log holds it. Resolves with none
   * when the log holds nothing after the last event read, also when
   * retention dropped what came next. The first event may be past the one
   * asked for: retention dropped those in between.
   */
  read(limit: number, until: bigint): Promise<StoredEvent[]>;
  /** Releases what the reader holds (a server-side consumer, for JetStream). */
  close(): void;
}

/** Called with committed events, in sequence order, with no gap between calls (only what retention dropped). */
export type CommitListener = (events: StoredEvent[]) => void;

/** The log of one events component: SQLite on this machine, or a JetStream stream several components share. */
export interface EventLog {
  /** The bounds of what the log keeps, as last set. */
  readonly retention: Retention;
  /**
   * Appends one event, or answers a repeat of a remembered (source, publish
   * id) with the first one's sequence and time. Resolves once the event is as
   * durable as the backend promises (see its README section).
   */
  append(event: NewEvent): Promise<Appended>;
  /** Which sequences the log holds and how much, now. */
  status(): Promise<LogStatus>;
  /** Reads the events after sequence `after`, in order; the caller closes the reader. */
  replay(after: bigint): ReplayReader;
  /**
   * Tells listener every event committed from now on, in sequence order,
   * including (for a shared log) those other components appended; returns the
   * sequence after which it starts. One listener per log.
   */
  follow(listener: CommitListener): bigint;
  /** Sets new bounds and applies them. */
  setRetention(retention: Retention): Promise<void>;
  /** Applies the age bound now, where the backend does not do so by itself. */
  expire(nowMs: number): void;
  /** How many events retention deleted since the log was opened, where the component applies retention (SQLite; JetStream applies its limits itself). */
  readonly deleted?: number;
  /** The group commit of appends, where the backend batches them (SQLite): its batch sizes and times are metrics. */
  readonly commits?: GroupCommit<NewEvent, Appended>;
  /** Closes the log: appends still queued are written first. */
  close(): Promise<void>;
}
