/**
 * The bounded log init keeps of each component's output: the most recent
 * lines, up to a count and a byte size, with followers told of new lines.
 */

/** One captured line of a component's output. */
export interface LogLine {
  /** Which stream the component wrote it to. */
  stream: "stdout" | "stderr";
  /** The text, without its newline. */
  text: string;
  /** When init read it. */
  time: Date;
  /** The process that wrote it. */
  pid: number;
}

/** The longest line kept whole; longer ones are split. */
export const MAX_LINE_BYTES = 16 * 1024;

/** A ring of the most recent lines of one component. */
export class LogBuffer {
  private readonly lines: LogLine[] = [];
  private bytes = 0;
  private readonly followers = new Set<(line: LogLine) => void>();

  constructor(
    private readonly maxLines = 5000,
    private readonly maxBytes = 4 * 1024 * 1024,
  ) {}

  /** Adds a line, dropping the oldest ones past the bounds, and tells the followers. */
  append(line: LogLine): void {
    for (let start = 0; start < line.text.length || start === 0; start += MAX_LINE_BYTES) {
      const part = { ...line, text: line.text.slice(start, start + MAX_LINE_BYTES) };
      this.lines.push(part);
      this.bytes += part.text.length;
      for (const follower of this.followers) follower(part);
      if (line.text.length === 0) break;
    }
    while (this.lines.length > this.maxLines || this.bytes > this.maxBytes) {
      this.bytes -= this.lines.shift()!.text.length;
    }
  }

  /** The kept lines, oldest first; with tail > 0 only the last tail of them. */
  snapshot(tail = 0): LogLine[] {
    return tail > 0 ? this.lines.slice(-tail) : [...this.lines];
  }

  /** Calls follower for each new line until the returned function is called. */
  follow(follower: (line: LogLine) => void): () => void {
    this.followers.add(follower);
    return () => this.followers.delete(follower);
  }
}
