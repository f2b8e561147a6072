/** Aligned text columns: a header row and data rows, numbers right-aligned. */

/** Where a column's cells sit. */
export type Align = "left" | "right";

/** A column: its header and alignment. */
export interface Column {
  readonly header: string;
  readonly align: Align;
}

/** Renders rows under their headers with two spaces between columns; the last column is not padded. */
export function renderColumns(columns: readonly Column[], rows: readonly (readonly string[])[]): string {
  // A loop, not Math.max(...rows): spreading 130k rows as arguments overflows the call stack.
  const widths = columns.map((c, i) => rows.reduce((w, r) => Math.max(w, (r[i] ?? "").length), c.header.length));
  const line = (cells: readonly string[]) =>
    columns
      .map((c, i) => {
        const cell = cells[i] ?? "";
        if (i === columns.length - 1 && c.align === "left") return cell;
        return c.align === "right" ? cell.padStart(widths[i]) : cell.padEnd(widths[i]);
      })
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)].join("\n");
}

/** Key/value lines with the keys padded to one width. */
export function renderPairs(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}
