import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ProcessLogReader, TailWindow, encodeRecord } from "./log-files.js";
import type { LogRecord, StreamNumber } from "./log-files.js";

const root = mkdtempSync(join(tmpdir(), "moby-log-files-"));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const fresh = () => {
  const dir = join(root, String(dirs++));
  mkdirSync(dir);
  return dir;
};

function record(seq: number, stream: StreamNumber, text: string): LogRecord {
  return { seq, stream, timeUs: 1_700_000_000_000_000 + seq, data: Buffer.from(text) };
}

function append(dir: string, file: string, ...records: LogRecord[]) {
  appendFileSync(join(dir, file), Buffer.concat(records.map(encodeRecord)));
}

async function drain(reader: ProcessLogReader): Promise<string> {
  let out = "";
  for (;;) {
    const { records, caughtUp } = await reader.poll(64);
    out += records.map((r) => `${r.seq}${r.stream === 1 ? "o" : "e"}:${r.data.toString()} `).join("");
    if (caughtUp) return out + reader.takeHeld().map((r) => `${r.seq}:${r.data.toString()} `).join("");
  }
}

describe("ProcessLogReader", () => {
  it("merges both streams in seq order, older files first", async () => {
    const dir = fresh();
    append(dir, "stdout.log.1", record(0, 1, "a"));
    append(dir, "stdout.log", record(2, 1, "c"), record(4, 1, "e"));
    append(dir, "stderr.log", record(1, 2, "b"), record(3, 2, "d"));
    const reader = new ProcessLogReader(dir, [1, 2]);
    assert.equal(await drain(reader), "0o:a 1e:b 2o:c 3e:d 4o:e ");
    await reader.close();
    const stdout = new ProcessLogReader(dir, [1]);
    assert.equal(await drain(stdout), "0o:a 2o:c 4o:e ");
    await stdout.close();
  });

  it("reads new records incrementally, across one and two rotations, and waits for a partial record", async () => {
    const dir = fresh();
    append(dir, "stdout.log", record(0, 1, "a"));
    const reader = new ProcessLogReader(dir, [1]);
    assert.equal(await drain(reader), "0o:a ");
    append(dir, "stdout.log", record(1, 1, "b"));
    renameSync(join(dir, "stdout.log"), join(dir, "stdout.log.1"));
    append(dir, "stdout.log", record(2, 1, "c"));
    assert.equal(await drain(reader), "1o:b 2o:c ");
    // Two rotations between reads: the middle file is read, the oldest is gone.
    append(dir, "stdout.log", record(3, 1, "d"));
    renameSync(join(dir, "stdout.log"), join(dir, "stdout.log.1"));
    append(dir, "stdout.log", record(4, 1, "e"));
    renameSync(join(dir, "stdout.log"), join(dir, "stdout.log.1"));
    append(dir, "stdout.log", record(5, 1, "f"));
    assert.equal(await drain(reader), "3o:d 4o:e 5o:f ", "the open file is read to its end, then the one rotated in between");
    const half = encodeRecord(record(6, 1, "ghij"));
    appendFileSync(join(dir, "stdout.log"), half.subarray(0, 26));
    assert.equal(await drain(reader), "");
    appendFileSync(join(dir, "stdout.log"), half.subarray(26));
    assert.equal(await drain(reader), "6o:ghij ");
    await reader.close();
  });

  it("stops at a damaged record, and copes with missing files", async () => {
    const dir = fresh();
    const reader = new ProcessLogReader(dir, [1, 2]);
    assert.equal(await drain(reader), "");
    append(dir, "stdout.log", record(0, 1, "a"));
    writeFileSync(join(dir, "stderr.log"), Buffer.alloc(30, 0xff));
    assert.equal(await drain(reader), "0o:a ");
    await reader.close();
  });
});

describe("TailWindow", () => {
  const tail = (lines: number, ...chunks: string[]) => {
    const window = new TailWindow(lines);
    chunks.forEach((chunk, seq) => window.push(record(seq, 1, chunk)));
    return window.records().map((r) => r.data.toString()).join("|");
  };

  it("keeps the last lines, cutting the first record at a line start", () => {
    assert.equal(tail(2, "a\nb\n", "c\nd\n"), "c\nd\n");
    assert.equal(tail(3, "a\nb\n", "c\nd\n"), "b\n|c\nd\n");
    assert.equal(tail(1, "a\nb\n", "c"), "c", "a last unterminated line counts as one");
    assert.equal(tail(2, "a\nb\n", "c"), "b\n|c");
    assert.equal(tail(1, "a\nb", "c\n"), "b|c\n", "a line may span records");
    assert.equal(tail(2, "a\nb", "c\n"), "a\nb|c\n");
    assert.equal(tail(10, "a\n", "b\n"), "a\n|b\n");
    assert.equal(tail(0, "a\n"), "");
    assert.equal(tail(1, "x".repeat(10), "y\n", "z\n"), "z\n");
  });

  it("keeps memory bounded by the lines asked for", () => {
    const window = new TailWindow(2);
    for (let seq = 0; seq < 10_000; seq++) window.push(record(seq, 1, `line ${seq}\n`));
    assert.equal(window.records().map((r) => r.data.toString()).join(""), "line 9998\nline 9999\n");
    assert.ok((window as unknown as { kept: unknown[] }).kept.length <= 4);
  });
});
