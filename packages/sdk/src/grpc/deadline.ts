/**
 * A call's deadline, for the server and the client alike: a timer that
 * fires once the deadline has passed, however far away it is (Node's
 * timers wait at most ~24.8 days, so a longer one waits again), and the
 * time left for grpc-timeout.
 */

/** The longest delay a Node timer takes (2^31 - 1 ms, ~24.8 days); longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A deadline timeoutMs from now that calls onExpire(target) once it has passed, unless cleared first. */
export class DeadlineTimer<T> {
  /** When the deadline passes, in Date.now() time. */
  readonly at: number;
  #timer: NodeJS.Timeout;

  /**
   * coarse: round delays of a second or more up to a multiple of 100 ms.
   * Each caller's remaining time differs by a few ms from call to call, and
   * Node keeps one timer list per distinct delay, so rounding lets many
   * calls share a few lists (the timer fires at most 100 ms late).
   */
  constructor(
    timeoutMs: number,
    private readonly onExpire: (target: T) => void,
    private readonly target: T,
    private readonly coarse = false,
  ) {
    this.at = Date.now() + timeoutMs;
    this.#timer = setTimeout(fire, this.delay(timeoutMs), this);
  }

  /** The ms left until the deadline; 0 once it passed. */
  remaining(): number {
    return Math.max(0, this.at - Date.now());
  }

  /** Stops the timer: the call is over. */
  clear(): void {
    clearTimeout(this.#timer);
  }

  /** Lets the process exit while the timer waits. */
  unref(): this {
    this.#timer.unref();
    return this;
  }

  /** The timer fired: expire once the deadline has passed, else wait on. @internal */
  fired(): void {
    const left = this.at - Date.now();
    if (left > 0) {
      const refed = this.#timer.hasRef();
      this.#timer = setTimeout(fire, this.delay(left), this);
      if (!refed) this.#timer.unref();
      return;
    }
    this.onExpire(this.target);
  }

  private delay(ms: number): number {
    if (!this.coarse || ms < 1000) return Math.min(Math.max(0, ms), MAX_TIMER_MS);
    return Math.min(MAX_TIMER_MS, Math.ceil(ms / 100) * 100);
  }
}

function fire(deadline: { fired(): void }): void {
  deadline.fired();
}
