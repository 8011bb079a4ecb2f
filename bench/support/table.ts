/**
 * Plain-text tables for the terminal: a title, a header row, aligned columns
 * (numbers right, words left) and notes under the table.
 */

/** One column: its header and whether its cells are right-aligned. */
export interface Column {
  header: string;
  right?: boolean;
}

/** Renders a table with a title line, the header, a rule, the rows, and notes. */
export function renderTable(title: string, columns: Column[], rows: string[][], notes: string[] = []): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (columns[i]?.right ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [
    title,
    line(columns.map((c) => c.header)),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map(line),
    ...notes.map((n) => `  ${n}`),
  ].join("\n");
}

/** A number with thousands separators and at most `digits` decimals; "-" for NaN or undefined. */
export function formatNumber(value: number | undefined, digits = 0): string {
  if (value === undefined || !Number.isFinite(value)) return "-";
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A ratio as "1.23x"; "-" when not known. */
export function formatRatio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? "-" : `${value.toFixed(2)}x`;
}

/** A fraction as a percentage with no decimals, "±12%"; "-" when not known. */
export function formatSpread(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? "-" : `±${Math.round((value * 100) / 2)}%`;
}
