/**
 * Attach for one process: the checks of an Attach call's requests, its
 * output (followed from the files its shim writes, so every attached call
 * gets all of it), and its input, passed to the FIFOs its shim reads
 * (process-input.ts). The shim holds the process's stdin and terminal, so
 * an attach works the same after the runtime restarted.
 */
import { create } from "@bufbuild/protobuf";
import { FailedPreconditionError, InvalidArgumentError, ResourceExhaustedError } from "@moby-core/sdk";
import { checkId, checkOptionalId } from "@moby-core/sdk/list";
import { AttachResponseSchema, ReadLogsRequestSchema } from "@moby-core/container-runtime-api/v1";
import type { AttachRequest, AttachResponse, AttachStart } from "@moby-core/container-runtime-api/v1";
import { nowUs, timestampFromUs } from "./clock.js";
import { ProcessInput } from "./process-input.js";
import { readProcessLogs } from "./process-logs.js";
import type { TaskProcess } from "./task-process.js";

/** The largest stdin chunk of one AttachRequest, in bytes. */
export const MAX_STDIN_CHUNK = 65536;
/** The largest terminal dimension, in cells. */
const MAX_TERMINAL_CELLS = 65535;

/** The first request of an Attach call and the iterator of the rest. */
export interface FirstRequest {
  /** The first request. */
  first: AttachRequest | undefined;
  /** The requests after it. */
  rest: AsyncIterator<AttachRequest>;
}

/** Reads the first request of an Attach call; the rest stay to be read. */
export async function firstRequest(requests: AsyncIterable<AttachRequest>): Promise<FirstRequest> {
  const rest = requests[Symbol.asyncIterator]();
  const next = await rest.next();
  return { first: next.done ? undefined : next.value, rest };
}

/** The AttachStart of a first request, its ids checked; INVALID_ARGUMENT naming the field otherwise. */
export function checkAttachStart({ first }: FirstRequest): AttachStart {
  if (first === undefined || first.request.case !== "start") {
    throw new InvalidArgumentError("start", "the first request of an Attach call must be an AttachStart naming the process");
  }
  const start = first.request.value;
  checkId(start.containerId, "container_id");
  checkOptionalId(start.execId, "exec_id");
  return start;
}

function processName(process: TaskProcess): string {
  return process.execId === "" ? `the init process of task ${JSON.stringify(process.containerId)}` : `exec process ${JSON.stringify(process.execId)}`;
}

/**
 * Streams an AttachReady, then the process's output (from the call on, or
 * all kept output first with start.logs) until it has exited and its
 * output is drained; meanwhile passes the requests after the first to the
 * process's input. A bad request fails the call with its code.
 */
export async function* attachProcess(
  process: TaskProcess,
  start: AttachStart,
  { rest }: FirstRequest,
  signal: AbortSignal,
): AsyncGenerator<AttachResponse> {
  const input = start.stdin && process.io.stdin ? ProcessInput.open(process.dir) : undefined;
  const control = new AbortController();
  const onAbort = () => control.abort(signal.reason);
  signal.addEventListener("abort", onAbort, { once: true });
  let failure: unknown;
  const pump = pumpRequests(process, start, input, rest).catch((error: unknown) => {
    failure = error;
    control.abort(error);
  });
  // Output from this moment on, by the time the shim read it (its records'
  // clock): what the process writes after the caller sees AttachReady is
  // never taken for kept output, however late this call reads the files.
  const since = timestampFromUs(nowUs());
  try {
    yield create(AttachResponseSchema, {
      response: { case: "ready", value: { stdin: input !== undefined, terminal: process.io.terminal } },
    });
    const logs = create(ReadLogsRequestSchema, {
      containerId: process.containerId,
      execId: process.execId,
      follow: true,
      ...(start.logs ? {} : { since }),
    });
    for await (const chunk of readProcessLogs(process, logs, control.signal)) {
      yield create(AttachResponseSchema, { response: { case: "output", value: { stream: chunk.stream, data: chunk.data } } });
    }
    if (failure !== undefined) throw failure;
  } finally {
    signal.removeEventListener("abort", onAbort);
    input?.close();
    // The requests are not read any further: the call is over.
    void pump;
    void rest.return?.().catch(() => undefined);
  }
}

/** Passes each request after the first to the process: input, a terminal size, the end of input. */
async function pumpRequests(process: TaskProcess, start: AttachStart, input: ProcessInput | undefined, rest: AsyncIterator<AttachRequest>): Promise<void> {
  let closed = false;
  for (let next = await rest.next(); !next.done; next = await rest.next()) {
    const { request } = next.value;
    switch (request.case) {
      case "start":
        throw new InvalidArgumentError("start", "only the first request of an Attach call is an AttachStart");
      case "stdin": {
        if (!start.stdin) throw new FailedPreconditionError("stdin was sent without AttachStart.stdin");
        if (input === undefined) throw new FailedPreconditionError(`the stdin of ${processName(process)} is not open (start it with stdin, as -i does), closed, or the process has exited`);
        if (closed) throw new FailedPreconditionError(`the stdin of ${processName(process)} was closed by close_stdin`);
        if (request.value.byteLength > MAX_STDIN_CHUNK) throw new ResourceExhaustedError(`a stdin chunk is ${request.value.byteLength} bytes, more than ${MAX_STDIN_CHUNK}`);
        if (request.value.byteLength > 0) {
          await input.write(request.value).catch((error: unknown) => {
            throw new FailedPreconditionError(`the stdin of ${processName(process)} is closed: the process has exited (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
          });
        }
        break;
      }
      case "resize": {
        if (!process.io.terminal) throw new FailedPreconditionError(`${processName(process)} has no terminal to resize`);
        const { rows, columns } = request.value;
        if (rows < 1 || rows > MAX_TERMINAL_CELLS) throw new InvalidArgumentError("resize.rows", `${rows} is outside 1 to ${MAX_TERMINAL_CELLS}`);
        if (columns < 1 || columns > MAX_TERMINAL_CELLS) throw new InvalidArgumentError("resize.columns", `${columns} is outside 1 to ${MAX_TERMINAL_CELLS}`);
        ProcessInput.control(process.dir, `resize ${rows} ${columns}`);
        break;
      }
      case "closeStdin": {
        if (!request.value || closed) break;
        closed = true;
        if (input === undefined || process.io.terminal) break;
        await input.flush();
        input.close();
        ProcessInput.control(process.dir, "close-stdin");
        break;
      }
      default:
        break;
    }
  }
  // The caller closed its side: it detaches; the process's stdin stays open.
  input?.close();
}
