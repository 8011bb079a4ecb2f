/**
 * How init shows logs: pino's JSON lines for machines, or pino-pretty's
 * readable lines for a person at a terminal. The same choice applies to
 * init's own log and to the components' output it echoes with a `[name]`
 * prefix, which is JSON from every component built on the SDK.
 */
import { prettyFactory } from "pino-pretty";

/** The forms init can write its logs in. */
export const LOG_FORMATS = ["pretty", "json"] as const;

/** One of LOG_FORMATS. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The format asked for with --log-format, else pretty on a terminal and JSON otherwise; an unknown name throws naming the option. */
export function chooseLogFormat(option: string | undefined, terminal: boolean): LogFormat {
  if (option === undefined) return terminal ? "pretty" : "json";
  if (!(LOG_FORMATS as readonly string[]).includes(option)) {
    throw new Error(`--log-format ${JSON.stringify(option)} is not one of ${LOG_FORMATS.join(", ")}`);
  }
  return option as LogFormat;
}

/** Turns one JSON log line into a readable one: time, level, [component], message, then the other fields. */
export function prettyLine(colorize: boolean): (json: string) => string {
  const format = prettyFactory({
    colorize,
    translateTime: "HH:MM:ss.l",
    ignore: "pid,hostname,component",
    messageFormat: "[{component}] {msg}",
    singleLine: true,
  });
  return (json) => format(json).replace(/\n$/, "");
}

/** A pino destination that writes each line readable to standard error. */
export function prettyDestination(colorize: boolean): { write(line: string): void } {
  const pretty = prettyLine(colorize);
  return { write: (line) => void process.stderr.write(`${pretty(line)}\n`) };
}

/**
 * How init echoes a line a component printed: as it is for JSON, or, for
 * pretty, a JSON log line made readable (its component is in it) and any other
 * line behind the component's name.
 */
export function echoFormatter(format: LogFormat, colorize: boolean): (component: string, text: string) => string {
  if (format === "json") return (component, text) => `[${component}] ${text}`;
  const pretty = prettyLine(colorize);
  return (component, text) => (isJsonLogLine(text) ? pretty(text) : `[${component}] ${text}`);
}

/** Whether text is one pino JSON line (an object with a level and a time). */
function isJsonLogLine(text: string): boolean {
  if (!text.startsWith("{")) return false;
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === "object" && parsed !== null && "level" in parsed && "time" in parsed;
  } catch {
    return false;
  }
}
