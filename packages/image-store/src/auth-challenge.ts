/**
 * WWW-Authenticate challenges of a registry (RFC 7235): the scheme and its
 * parameters, for example `Bearer realm="https://auth.example/token",service="registry",scope="repository:a/b:pull"`.
 */

/** One challenge. */
export interface Challenge {
  /** The scheme, lowercase: "basic" or "bearer". */
  scheme: string;
  /** The parameters, names lowercase. */
  params: Record<string, string>;
}

const TOKEN = /[A-Za-z0-9!#$%&'*+.^_`|~-]+/y;

/** Parses a WWW-Authenticate header into its challenges. */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let pos = 0;
  const skip = (chars: RegExp) => {
    while (pos < header.length && chars.test(header[pos]!)) pos++;
  };
  const token = (): string | undefined => {
    TOKEN.lastIndex = pos;
    const match = TOKEN.exec(header);
    if (!match) return undefined;
    pos = TOKEN.lastIndex;
    return match[0];
  };
  while (pos < header.length) {
    skip(/[\s,]/);
    const name = token();
    if (name === undefined) break;
    skip(/\s/);
    if (header[pos] === "=" && out.length > 0) {
      pos++;
      skip(/\s/);
      let value = "";
      if (header[pos] === '"') {
        pos++;
        while (pos < header.length && header[pos] !== '"') {
          if (header[pos] === "\\") pos++;
          value += header[pos] ?? "";
          pos++;
        }
        pos++;
      } else {
        const start = pos;
        while (pos < header.length && !/[\s,]/.test(header[pos]!)) pos++;
        value = header.slice(start, pos);
      }
      out.at(-1)!.params[name.toLowerCase()] = value;
    } else {
      out.push({ scheme: name.toLowerCase(), params: {} });
    }
  }
  return out;
}
