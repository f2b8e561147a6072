/** What `numforge explore` embeds in the page for its script: shared by the writer (Node) and the page. */
export interface SiteData {
  /** numforge's version that wrote the site. */
  readonly numforge: string;
  /** Every built-in spec, by name, as the text of its file in formats/. */
  readonly specs: Readonly<Record<string, string>>;
  /** The built-ins whose kernel package the site holds under kernels/NAME/. */
  readonly kernels: readonly string[];
}
