/** report.md: the paper-style table of a comparison, then one line per run. */
import type { ResultsFile } from "../runtime/compare/results.ts";
import { BASELINE, deltaText, divergedText, meanStd, percent, settingsLine, summarize } from "./summary.ts";

/** The Markdown report of `results`. */
export function markdownReport(results: ResultsFile): string {
  const rows = summarize(results);
  const escape = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const lines = [
    "# numforge format comparison",
    "",
    settingsLine(results),
    "",
    `| recipe | test accuracy % (mean ± std) | Δ vs ${BASELINE} (points) | diverged runs | mean wall s |`,
    "|---|---:|---:|---|---:|",
    ...rows.map((r) => `| ${escape(r.recipe)} | ${meanStd(r)} | ${deltaText(r)} | ${divergedText(r)} | ${r.meanWallSeconds.toFixed(1)} |`),
    "",
    "Mean and sample standard deviation over the seeds that did not diverge; a diverged run stopped at the first step whose loss (or whose update of the weights) was not finite.",
    "",
    "## Recipes",
    "",
    ...rows.map((r) => `- **${escape(r.recipe)}**: ${escape(r.summary)}`),
    "",
    "## Runs",
    "",
    "| recipe | seed | test accuracy % per epoch | final | diverged | steps | wall s |",
    "|---|---:|---|---:|---|---:|---:|",
    ...results.runs.map((run) =>
      `| ${escape(run.recipe)} | ${run.seed} | ${run.epochs.map((e) => percent(e.testAccuracy)).join(", ") || "—"} | ${run.finalMetric === null ? "—" : percent(run.finalMetric)} | ${run.diverged === null ? "no" : `step ${run.diverged.step}`} | ${run.steps} | ${run.wallSeconds.toFixed(1)} |`),
    "",
  ];
  return lines.join("\n");
}
