/** Plain-text tables for benchmark output (first column left-aligned, the others right-aligned). */

export interface Table {
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  readonly notes?: readonly string[];
}

export function renderTable(table: Table): string {
  const all = [table.header, ...table.rows];
  const widths = table.header.map((_, c) => Math.max(...all.map((row) => (row[c] ?? "").length)));
  const line = (row: readonly string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("  ");
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  const notes = (table.notes ?? []).map((n) => `  ${n}`);
  return [table.title, line(table.header), rule, ...table.rows.map(line), ...notes].join("\n");
}

/** A number with a fixed count of decimals. */
export const fixed = (x: number, digits = 2): string => (Number.isFinite(x) ? x.toFixed(digits) : "—");

/** A ratio as "2.31×". */
export const times = (x: number): string => (Number.isFinite(x) ? `${fixed(x)}×` : "—");
