/**
 * Negative tests: every `test/invalid/NAME.json` must make `numforge check` exit 2 with exactly
 * the one line in `NAME.expected.txt` on stderr, nothing on stdout and no stack trace.
 * Each start of the CLI costs seconds (node + tsx + effect), so all specs go through one
 * `numforge check A.json B.json ...` (one line per spec, in order), and a few through a run of their own.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { numforge, ROOT, STACK_TRACE, type CliResult } from "./harness.ts";

const DIR = "test/invalid";
const specs = readdirSync(join(ROOT, DIR))
  .filter((f) => f.endsWith(".json"))
  .sort();
const expectedPath = (spec: string) => join(ROOT, DIR, spec.replace(/\.json$/, ".expected.txt"));
const expectedLine = (spec: string) => readFileSync(expectedPath(spec), "utf8").trimEnd();

/** Specs also checked alone: a schema error, a consistency error, a JSON syntax error. */
const ALONE = ["wrong-type.json", "nan-input-missing.json", "malformed-json.json"];

const batch = numforge(["check", ...specs.map((f) => `${DIR}/${f}`)]);
const alone = new Map(ALONE.map((f) => [f, numforge(["check", `${DIR}/${f}`])]));

function expectUserError(result: CliResult, stderr: string): void {
  expect(result.stderr).toBe(stderr);
  expect(result.stdout).toBe("");
  expect(result.code).toBe(2);
  expect(result.stderr).not.toMatch(STACK_TRACE);
}

describe("test/invalid", () => {
  it("holds at least 15 specs, each with a one-line expected message", () => {
    expect(specs.length).toBeGreaterThanOrEqual(15);
    const missing = specs.filter((f) => !existsSync(expectedPath(f)));
    expect(missing).toEqual([]);
    for (const spec of specs) expect(expectedLine(spec).split("\n"), spec).toHaveLength(1);
  });

  it("has no expected message without its spec", () => {
    const orphans = readdirSync(join(ROOT, DIR))
      .filter((f) => f.endsWith(".expected.txt"))
      .filter((f) => !existsSync(join(ROOT, DIR, f.replace(/\.expected\.txt$/, ".json"))));
    expect(orphans).toEqual([]);
  });

  it("numforge check on all of them exits 2 with one line per spec, nothing on stdout", async () => {
    expectUserError(await batch, `${specs.map(expectedLine).join("\n")}\n`);
  });

  it.each(specs)("%s gives its expected message", async (spec) => {
    const lines = (await batch).stderr.split("\n");
    expect(lines[specs.indexOf(spec)]).toBe(expectedLine(spec));
  });

  it.each(ALONE)("numforge check %s alone exits 2 with its message", async (spec) => {
    expectUserError(await alone.get(spec)!, `${expectedLine(spec)}\n`);
  });
});
