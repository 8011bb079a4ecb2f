/**
 * Uptimes written the short human way (5s, 3m12s, 2h1m, 3d4h). Durations on
 * the command line (`--timeout 5s`) are read with the SDK's parseDuration,
 * the grammar of the manifest.
 */

/**
 * An uptime in whole seconds the short human way, with its two largest
 * units and zero parts left out: 0s, 5s, 3m12s, 3m, 2h1m, 2h, 3d4h.
 * Negative values (clock skew) count as 0.
 */
export function formatUptime(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const units: [string, number][] = [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ];
  const first = units.findIndex(([, size]) => total >= size);
  if (first === -1) return "0s";
  let rest = total;
  let text = "";
  for (const [name, size] of units.slice(first, first + 2)) {
    const amount = Math.floor(rest / size);
    rest -= amount * size;
    if (amount > 0) text += `${amount}${name}`;
  }
  return text;
}
