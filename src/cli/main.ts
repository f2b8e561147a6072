/** Entry point (bin/numforge.js): runs the CLI on the process and sets the exit code. */
import { processIo } from "./io.ts";
import { runCli } from "./run.ts";

// A closed pipe (`numforge table fp16 | head`) ends the output, not the run with a stack trace.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  process.stderr.write(`numforge: cannot write output: ${error.message}\n`);
  process.exit(1);
});

// Scaling kinds kept outside numforge join before any spec is read (src/scaling/plugins.ts);
// imported only when asked for, so start-up does not pay for the format pipeline.
const pluginList = process.env.NUMFORGE_SCALING_KINDS;
const plugins =
  pluginList === undefined || pluginList === ""
    ? null
    : await import("../scaling/plugins.ts").then(({ loadScalingKindModules }) => loadScalingKindModules(pluginList)).then(
        () => null,
        (error: Error) => error.message,
      );
if (plugins !== null) {
  process.stderr.write(`numforge: ${plugins}\n`);
  process.exitCode = 2;
} else process.exitCode = await runCli(process.argv.slice(2), processIo());
