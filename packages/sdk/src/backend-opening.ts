/**
 * A backend a component needs (a database cluster, a message broker), opened
 * the way a supervised service waits for what it depends on, rather than
 * exiting and being restarted until its supervisor gives up:
 *
 * - The first try is made before the component serves. When it opens, the
 *   component serves as it always did.
 * - When it cannot be reached (open rejects with UnavailableError), the
 *   component serves anyway: each service that needs the backend reports
 *   NOT_SERVING with the reason, and its calls answer UNAVAILABLE with it,
 *   while open is tried again with capped exponential backoff. Once it opens,
 *   the services' implementations are built and they report SERVING, with no
 *   restart. The wait is logged once when it begins and once when it ends,
 *   not at every try.
 * - Any other error is a configuration error (bad values, a server that
 *   answers no): on the first try it fails start-up with its message; on a
 *   later one the services stay NOT_SERVING with it, their calls answer
 *   FAILED_PRECONDITION, and no more tries are made.
 */
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import { FailedPreconditionError, UnavailableError } from "./errors.js";
import { ServingStatus } from "./health.js";
import type { HealthStatusBoard } from "./health.js";
import type { ServiceRegistration } from "./serve-component.js";

/** How often a backend that cannot be reached is tried again. */
export interface BackendRetry {
  /** The wait before the second try, in ms; it doubles after each failed try. Default 250. */
  initialDelayMs?: number;
  /** The longest wait between two tries, in ms. Default 2000. */
  maxDelayMs?: number;
}

/** The settings of BackendOpening.open. */
export interface BackendOpeningOptions<B> {
  /** What is opened, for the log lines: "etcd", "the JetStream stream EVENTS". */
  what: string;
  /**
   * Opens the backend. Rejects with UnavailableError, whose message says
   * why (it becomes the NOT_SERVING reason and the calls' message), while it
   * cannot be reached; with any other error when it cannot be used.
   */
  open: () => Promise<B>;
  /** Closes an opened backend, at close(). */
  close: (backend: B) => Promise<void> | void;
  /** The component's logger. */
  logger: Logger;
  /** The component's health board: the services of serviceOf are set on it. */
  health: HealthStatusBoard;
  /** How often to try again; default from 250 ms, doubling, up to 2 s. */
  retry?: BackendRetry;
}

/** The default first wait between tries, in ms. */
const DEFAULT_INITIAL_DELAY_MS = 250;
/** The default longest wait between tries, in ms. */
const DEFAULT_MAX_DELAY_MS = 2000;

/** A service served on the backend: its name, how it is built, and its implementation once built. */
interface BackedService<B> {
  name: string;
  build: (backend: B) => object;
  implementation: Record<string, unknown> | undefined;
}

/** A backend being opened, then open: the services that need it follow its state. */
export class BackendOpening<B> {
  /** The backend once open, else undefined. */
  backend: B | undefined;
  /** Why the backend is not open ("" once it is): the last try's error. */
  reason = "";
  private failure: FailedPreconditionError | undefined;
  private readonly services: BackedService<B>[] = [];
  private readonly listeners: ((backend: B) => void)[] = [];
  private tries = 0;
  private waitingSince = 0;
  private delayMs: number;
  private timer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private closed = false;

  private constructor(private readonly options: BackendOpeningOptions<B>) {
    this.delayMs = options.retry?.initialDelayMs ?? DEFAULT_INITIAL_DELAY_MS;
  }

  /**
   * Makes the first try. Resolves with the opening, open or still being
   * tried (when the backend cannot be reached); rejects with the error of a
   * backend that cannot be used.
   */
  static async open<B>(options: BackendOpeningOptions<B>): Promise<BackendOpening<B>> {
    const opening = new BackendOpening(options);
    try {
      opening.opened(await opening.tryOnce());
    } catch (error) {
      if (!(error instanceof UnavailableError)) throw error;
      opening.unreachable(error);
    }
    return opening;
  }

  /**
   * The registration of a service that needs the backend: built by build
   * once the backend is open (at once when it is). Until then the service
   * is NOT_SERVING with the reason, and every call answers UNAVAILABLE with
   * it. build runs once, and may start what goes with the service (metrics,
   * listeners).
   */
  serviceOf<S extends DescService>(service: S, build: (backend: B) => Partial<ServiceImpl<S>>): ServiceRegistration {
    if (this.backend !== undefined) return { service, implementation: build(this.backend) } as unknown as ServiceRegistration;
    const entry: BackedService<B> = { name: service.typeName, build, implementation: undefined };
    this.services.push(entry);
    this.options.health.set(entry.name, ServingStatus.NOT_SERVING, this.reason);
    const implementation: Record<string, (request: unknown, context: unknown) => unknown> = {};
    for (const method of service.methods) {
      const name = method.localName;
      implementation[name] = (request, context) => {
        const built = entry.implementation;
        if (built === undefined) throw this.failure ?? new UnavailableError(this.reason);
        const handler = built[name];
        if (typeof handler !== "function") throw new ConnectError(`${service.typeName}.${method.name} is not implemented`, Code.Unimplemented);
        return (handler as (request: unknown, context: unknown) => unknown).call(built, request, context);
      };
    }
    return { service, implementation, status: ServingStatus.NOT_SERVING } as unknown as ServiceRegistration;
  }

  /** Runs listener once the backend is open: at once when it is (its error is thrown), else when it opens (its error is logged). */
  whenOpen(listener: (backend: B) => void): void {
    if (this.backend !== undefined) listener(this.backend);
    else this.listeners.push(listener);
  }

  /** Stops trying, waits for a try under way, and closes the backend if it is open. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.attempt;
    const backend = this.backend;
    this.backend = undefined;
    if (backend !== undefined) await this.options.close(backend);
  }

  /** One call of open, counted. */
  private tryOnce(): Promise<B> {
    this.tries++;
    return this.options.open();
  }

  /** A try failed with UnavailableError: NOT_SERVING with its reason, and the next try scheduled. */
  private unreachable(error: UnavailableError): void {
    const first = this.waitingSince === 0;
    if (first) this.waitingSince = Date.now();
    this.reason = error.message;
    for (const { name } of this.services) this.options.health.set(name, ServingStatus.NOT_SERVING, this.reason);
    const delayMs = Math.round(this.delayMs * (0.8 + 0.4 * Math.random()));
    if (first) this.options.logger.warn({ reason: this.reason, retryMs: delayMs }, `${this.options.what} cannot be reached: serving NOT_SERVING and trying again until it can`);
    else this.options.logger.debug({ reason: this.reason, tries: this.tries, retryMs: delayMs }, `${this.options.what} still cannot be reached`);
    this.delayMs = Math.min(this.delayMs * 2, this.options.retry?.maxDelayMs ?? DEFAULT_MAX_DELAY_MS);
    this.timer = setTimeout(() => {
      this.attempt = this.retry().catch((error: unknown) => this.options.logger.error({ err: error }, `closing ${this.options.what} failed`));
    }, delayMs);
  }

  /** A later try: opens, waits again, or gives up on an error other than UnavailableError. */
  private async retry(): Promise<void> {
    if (this.closed) return;
    let backend: B;
    try {
      backend = await this.tryOnce();
    } catch (error) {
      if (this.closed) return;
      if (error instanceof UnavailableError) this.unreachable(error);
      else this.cannotBeUsed(error);
      return;
    }
    if (this.closed) {
      await this.options.close(backend);
      return;
    }
    try {
      this.opened(backend);
    } catch (error) {
      await this.options.close(backend);
      this.cannotBeUsed(error);
    }
  }

  /** The backend answered that it cannot be used: the services stay NOT_SERVING with why, and no more tries are made. */
  private cannotBeUsed(error: unknown): void {
    this.reason = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ").trim();
    this.failure = new FailedPreconditionError(this.reason);
    for (const entry of this.services) {
      entry.implementation = undefined;
      this.options.health.set(entry.name, ServingStatus.NOT_SERVING, this.reason);
    }
    this.options.logger.error({ reason: this.reason, tries: this.tries }, `${this.options.what} cannot be used: its services stay NOT_SERVING; fix it and restart the component`);
  }

  /** The backend is open: the waiting services are built and SERVING, the listeners told. */
  private opened(backend: B): void {
    for (const entry of this.services) entry.implementation = entry.build(backend) as Record<string, unknown>;
    this.backend = backend;
    this.reason = "";
    for (const { name } of this.services) this.options.health.set(name, ServingStatus.SERVING);
    if (this.waitingSince !== 0) {
      this.options.logger.info({ tries: this.tries, waitedMs: Date.now() - this.waitingSince }, `${this.options.what} is open: serving`);
    }
    for (const listener of this.listeners.splice(0)) {
      try {
        listener(backend);
      } catch (error) {
        this.options.logger.error({ err: error }, `a listener of ${this.options.what} opening failed; the backend serves`);
      }
    }
  }
}
