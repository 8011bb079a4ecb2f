/**
 * Summaries of measured samples: median, percentiles, and how far the
 * rounds of one measurement spread around their median.
 */

/** The values sorted ascending, as a new array. */
function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

/** The median of values (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = sorted(values);
  const middle = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[middle]! : (s[middle - 1]! + s[middle]!) / 2;
}

/**
 * The p-th percentile (0-100) of values by the nearest-rank method: the
 * smallest value that at least p% of the values are less than or equal to.
 * NaN when empty. Pass presorted = true when values are already ascending.
 */
export function percentile(values: readonly number[], p: number, presorted = false): number {
  if (values.length === 0) return Number.NaN;
  const s = presorted ? values : sorted(values);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1]!;
}

/** (max - min) / median of values, as a fraction: how much the rounds disagree. NaN when empty. */
export function relativeSpread(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

/**
 * The median of the per-round ratios a[i] / b[i]: a ratio between two peers
 * measured in the same rounds, robust to the machine getting faster or
 * slower between rounds. Rounds where either value is missing are skipped.
 */
export function pairedRatio(a: readonly (number | undefined)[], b: readonly (number | undefined)[]): number {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x !== undefined && y !== undefined && Number.isFinite(x) && Number.isFinite(y) && y !== 0) ratios.push(x / y);
  }
  return median(ratios);
}
