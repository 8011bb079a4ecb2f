/**
 * ReadLogs for one process: its kept output (with tail and since) and, with
 * follow, its new output until the process has exited and its shim has
 * drained the rest, read from the files its shim writes (log-files.ts).
 */
import { watch } from "node:fs";
import type { FSWatcher } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { ReadLogsResponseSchema } from "@moby-core/container-runtime-api/v1";
import type { ReadLogsRequest, ReadLogsResponse } from "@moby-core/container-runtime-api/v1";
import { LogStream } from "@moby-core/types-api/v1";
import { microsecondsOf, timestampFromUs } from "./clock.js";
import { ProcessLogReader, TailWindow } from "./log-files.js";
import type { LogRecord, StreamNumber } from "./log-files.js";
import { isDrained, readExitFile } from "./process-files.js";
import type { TaskProcess } from "./task-process.js";

/** How often a followed log is read besides inotify, in ms. */
const FOLLOW_POLL_MS = 200;

/** Streams a process's kept output and, with follow, its new output, until signal aborts. */
export async function* readProcessLogs(process: TaskProcess, request: ReadLogsRequest, signal: AbortSignal): AsyncGenerator<ReadLogsResponse> {
  const streams: StreamNumber[] =
    request.stream === LogStream.STDOUT ? [1] : request.stream === LogStream.STDERR ? [2] : [1, 2];
  const reader = new ProcessLogReader(process.dir, streams);
  const sinceUs = request.since === undefined ? undefined : microsecondsOf(request.since);
  let lastTimeUs = 0;
  const response = (record: LogRecord): ReadLogsResponse => {
    lastTimeUs = Math.max(lastTimeUs, record.timeUs);
    return create(ReadLogsResponseSchema, { stream: record.stream, data: record.data, timestamp: timestampFromUs(lastTimeUs) });
  };
  const wanted = (record: LogRecord) => sinceUs === undefined || record.timeUs >= sinceUs;
  let dirty = false;
  let wake: (() => void) | undefined;
  const unsubscribe = process.onChange(() => {
    dirty = true;
    wake?.();
  });
  let watcher: FSWatcher | undefined;
  try {
    // The kept output, up to the call.
    const tail = request.tailLines === undefined ? undefined : new TailWindow(request.tailLines);
    for (;;) {
      const { records, caughtUp } = await reader.poll();
      for (const record of records) {
        if (!wanted(record)) continue;
        if (tail !== undefined) tail.push(record);
        else yield response(record);
      }
      if (caughtUp) break;
    }
    if (tail !== undefined) for (const record of tail.records()) yield response(record);
    if (!request.follow) return;

    // New output, until the process has exited and its output is drained.
    try {
      watcher = watch(process.dir, () => {
        dirty = true;
        wake?.();
      });
      watcher.on("error", () => {});
    } catch {
      // polled
    }
    for (;;) {
      if (signal.aborted || process.deleted || process.task.deleted) return;
      const finished = (process.exit !== undefined || readExitFile(process.dir) !== undefined) && isDrained(process.dir);
      dirty = false;
      const { records, caughtUp } = await reader.poll();
      for (const record of records) if (wanted(record)) yield response(record);
      if (finished && caughtUp) {
        for (const record of reader.takeHeld()) if (wanted(record)) yield response(record);
        return;
      }
      if (caughtUp && !dirty) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, FOLLOW_POLL_MS);
          const onAbort = () => done();
          signal.addEventListener("abort", onAbort, { once: true });
          function done() {
            clearTimeout(timer);
            signal.removeEventListener("abort", onAbort);
            wake = undefined;
            resolve();
          }
          wake = done;
        });
      }
    }
  } finally {
    unsubscribe();
    watcher?.close();
    await reader.close();
  }
}
