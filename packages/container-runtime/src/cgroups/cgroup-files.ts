/**
 * Reading the files of a cgroup directory, in the formats the kernel's
 * cgroup documentation names: a single value ("1024", or "max" for no
 * limit), flat keyed ("key value" per line: memory.stat, cpu.stat) and
 * nested keyed ("8:0 rbytes=1 wbytes=2": io.stat). A file the kernel does
 * not provide (an older kernel, a controller not enabled) reads as
 * undefined, so its counters are 0 in a sample rather than an error.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The text of dir/name, or undefined when the file does not exist or cannot be read. */
export function readCgroupFile(dir: string, name: string): string | undefined {
  try {
    return readFileSync(join(dir, name), "utf8");
  } catch {
    return undefined;
  }
}

/** A non-negative integer value; "max" (v2's no limit) is undefined, as is a missing file or a negative value. */
export function readUint(dir: string, name: string): bigint | undefined {
  const text = readCgroupFile(dir, name)?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  return BigInt(text);
}

/** A signed integer value ("-1" is v1's no limit); undefined for "max" or a missing file. */
export function readInt(dir: string, name: string): bigint | undefined {
  const text = readCgroupFile(dir, name)?.trim();
  if (text === undefined || !/^-?\d+$/.test(text)) return undefined;
  return BigInt(text);
}

/** A flat keyed file ("key value" per line) as a map; empty when missing. */
export function readFlatKeyed(dir: string, name: string): Map<string, bigint> {
  return parseFlatKeyed(readCgroupFile(dir, name) ?? "");
}

/** Parses flat keyed text; lines that are not "key integer" are skipped. */
export function parseFlatKeyed(text: string): Map<string, bigint> {
  const values = new Map<string, bigint>();
  for (const line of text.split("\n")) {
    const match = /^(\S+)\s+(\d+)$/.exec(line.trim());
    if (match !== null) values.set(match[1]!, BigInt(match[2]!));
  }
  return values;
}

/** One line of a nested keyed file: the device and its key=value pairs. */
export interface DeviceLine {
  major: bigint;
  minor: bigint;
  values: Map<string, bigint>;
}

/** Parses nested keyed text of devices ("MAJ:MIN key=value ..."); other lines are skipped. */
export function parseDeviceKeyed(text: string): DeviceLine[] {
  const lines: DeviceLine[] = [];
  for (const line of text.split("\n")) {
    const [device, ...pairs] = line.trim().split(/\s+/);
    const numbers = /^(\d+):(\d+)$/.exec(device ?? "");
    if (numbers === null) continue;
    const values = new Map<string, bigint>();
    for (const pair of pairs) {
      const match = /^([^=]+)=(\d+)$/.exec(pair);
      if (match !== null) values.set(match[1]!, BigInt(match[2]!));
    }
    lines.push({ major: BigInt(numbers[1]!), minor: BigInt(numbers[2]!), values });
  }
  return lines;
}

/**
 * Parses cgroup v1 blkio text ("MAJ:MIN Op value" per line, and a "Total"
 * line) into one line per device with its ops as keys ("Read", "Write",
 * ...).
 */
export function parseBlkioV1(text: string): DeviceLine[] {
  const byDevice = new Map<string, DeviceLine>();
  for (const line of text.split("\n")) {
    const match = /^(\d+):(\d+)\s+(\S+)\s+(\d+)$/.exec(line.trim());
    if (match === null) continue;
    const key = `${match[1]}:${match[2]}`;
    let entry = byDevice.get(key);
    if (entry === undefined) {
      entry = { major: BigInt(match[1]!), minor: BigInt(match[2]!), values: new Map() };
      byDevice.set(key, entry);
    }
    entry.values.set(match[3]!, BigInt(match[4]!));
  }
  return [...byDevice.values()];
}
