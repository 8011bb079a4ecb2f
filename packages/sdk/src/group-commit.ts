/**
 * Group commit, the way databases batch fsyncs: every write that arrives
 * while a commit is pending waits for the next one, and all of them are
 * committed together in one durable transaction, then acknowledged in the
 * order they came. The events log and the container store share it.
 */

/** What a commit made of one write: its result, or the error that failed only it. */
export type CommitOutcome<R> = { value: R } | { error: unknown };

/**
 * Commits a group of writes; returns one outcome per write, in order.
 * Throws when nothing of the group was committed: every write fails with it.
 */
export type CommitGroup<W, R> = (writes: W[]) => CommitOutcome<R>[];

interface Pending<W, R> {
  write: W;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

/** Batches writes into one commit per turn of the event loop. */
export class GroupCommit<W, R> {
  #pending: Pending<W, R>[] = [];
  #scheduled = false;
  /** Told of each commit that ran: how many writes it held and how long it took (the fsync included), in seconds. */
  onCommit: ((writes: number, seconds: number) => void) | undefined;

  constructor(private readonly commitGroup: CommitGroup<W, R>) {}

  /** Queues write for the next commit; resolves with its result once it is durable, rejects with what failed it. */
  add(write: W): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ write, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(flushLater, this as { flush(): void });
      }
    });
  }

  /** Commits every queued write now, without waiting for the turn to end (before closing what it writes to). */
  flush(): void {
    this.#scheduled = false;
    const group = this.#pending;
    if (group.length === 0) return;
    this.#pending = [];
    let outcomes: CommitOutcome<R>[];
    const start = this.onCommit === undefined ? 0 : performance.now();
    try {
      outcomes = this.commitGroup(group.map((p) => p.write));
    } catch (error) {
      for (const p of group) p.reject(error);
      return;
    } finally {
      this.onCommit?.(group.length, (performance.now() - start) / 1000);
    }
    group.forEach((p, i) => {
      const outcome = outcomes[i];
      if (outcome === undefined) p.reject(new Error(`group commit: no outcome for write ${i + 1} of ${group.length}`));
      else if ("error" in outcome) p.reject(outcome.error);
      else p.resolve(outcome.value);
    });
  }
}

function flushLater(commits: { flush(): void }): void {
  commits.flush();
}
