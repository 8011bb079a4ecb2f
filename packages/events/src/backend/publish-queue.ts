/**
 * The JetStream log's appends in flight: the appends of one turn of the
 * event loop are sent together at its end, and answered in the order they
 * came, whatever order their acknowledgements arrive in.
 *
 * Sending together matters because each gRPC request reaches its handler in
 * a callback of its own, and the NATS client writes what a callback queued
 * to its socket as soon as the callback's microtasks have run: sent one by
 * one, 64 Publishes in flight cost 64 socket writes; sent at the turn's end
 * (setImmediate), the 64 go out in one.
 */

/** What one item gave: its result, or what its send threw. */
type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** One pushed item, until it is answered. */
interface Entry<T, R> {
  item: T;
  outcome: Outcome<R> | undefined;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/** Sends items a turn's worth at a time and answers them in the order they were pushed. */
export class PublishQueue<T, R> {
  /** Pushed this turn, not yet sent. */
  private unsent: Entry<T, R>[] = [];
  /** Every entry not yet answered, in push order (the unsent ones included). */
  private readonly unanswered: Entry<T, R>[] = [];
  /** Called once nothing is left unanswered. */
  private idleWaiters: (() => void)[] = [];

  /** send starts sending one item and settles once it is done; it is called at the end of the turn the item was pushed in. */
  constructor(private readonly send: (item: T) => Promise<R>) {}

  /** Queues item for the end of this turn; settles with its send's outcome once every item pushed before it is answered. */
  push(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const entry: Entry<T, R> = { item, outcome: undefined, resolve, reject };
      if (this.unsent.length === 0) setImmediate(this.sendUnsent);
      this.unsent.push(entry);
      this.unanswered.push(entry);
    });
  }

  /** How many items are pushed and not yet answered. */
  get size(): number {
    return this.unanswered.length;
  }

  /** Resolves once every item pushed so far is answered. */
  idle(): Promise<void> {
    if (this.unanswered.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Starts the send of every item pushed this turn, in push order. */
  private readonly sendUnsent = (): void => {
    const entries = this.unsent;
    this.unsent = [];
    for (const entry of entries) {
      let sent: Promise<R>;
      try {
        sent = this.send(entry.item);
      } catch (error) {
        sent = Promise.reject(error);
      }
      sent.then(
        (value) => this.settle(entry, { ok: true, value }),
        (error: unknown) => this.settle(entry, { ok: false, error }),
      );
    }
  };

  /** Records entry's outcome and answers every entry at the head that has one. */
  private settle(entry: Entry<T, R>, outcome: Outcome<R>): void {
    entry.outcome = outcome;
    let answered = 0;
    for (const head of this.unanswered) {
      if (head.outcome === undefined) break;
      if (head.outcome.ok) head.resolve(head.outcome.value);
      else head.reject(head.outcome.error);
      answered++;
    }
    if (answered === 0) return;
    this.unanswered.splice(0, answered);
    if (this.unanswered.length === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }
}
