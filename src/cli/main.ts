/** Entry point (bin/numforge.js): runs the CLI on the process and sets the exit code. */
import { processIo } from "./io.ts";
import { runCli } from "./run.ts";

// A closed pipe (`numforge table fp16 | head`) ends the output, not the run with a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  process.stderr.write(`numforge: cannot write output: ${error.message}\n`);
  process.exit(1);
});

process.exitCode = await runCli(process.argv.slice(2), processIo());
