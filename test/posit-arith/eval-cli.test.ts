/**
 * `numforge eval FORMAT OP`: result codes equal the semantics' for every op, and every kind of
 * bad input is one line naming where (element, operand), exit 2. One spawned run checks the real
 * process (exit code, no stack trace); the rest run in process.
 */
import { describe, expect, it } from "vitest";
import { POSIT_OP_ARITY, positOp, type PositOp } from "../../src/dsl/semantics/posit-arith.ts";
import { numforge, numforgeInProcess, STACK_TRACE } from "../cli/harness.ts";

const OPS = Object.keys(POSIT_OP_ARITY) as PositOp[];

/** Deterministic operand tuples covering 0, NaR, ±1, ±maxpos and a spread of other codes. */
function tuples(n: number, arity: number): number[][] {
  const special = [0, 2 ** (n - 1), 2 ** (n - 2), 2 ** n - 2 ** (n - 2), 2 ** (n - 1) - 1, 1, 2 ** n - 1];
  const spread = Array.from({ length: 40 }, (_, i) => (i * 2654435761) % 2 ** n);
  const codes = [...special, ...spread];
  return codes.map((c, i) => [c, codes[(i * 7 + 3) % codes.length], codes[(i * 13 + 5) % codes.length]].slice(0, arity));
}

describe("numforge eval", () => {
  for (const [format, shape] of [["posit8", { n: 8, es: 0 }], ["posit16es2", { n: 16, es: 2 }], ["posit32es2", { n: 32, es: 2 }]] as const) {
    for (const op of OPS) {
      it(`${format} ${op} --json prints the semantics' codes`, async () => {
        const input = tuples(shape.n, POSIT_OP_ARITY[op]);
        const run = await numforgeInProcess(["eval", format, op, "--json"], JSON.stringify(input));
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        expect(JSON.parse(run.stdout)).toEqual(input.map((codes) => positOp(shape, op, codes)));
      });
    }
  }

  it("prints a table without --json, NaR by name", async () => {
    const run = await numforgeInProcess(["eval", "posit8", "fma"], "[[72, 72, 192], [1, 1, 128]]");
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/#\s+a\s+b\s+c\s+result\s+hex\s+value/);
    expect(lines[1]).toMatch(/\s36\s+0x24\s+0\.5625$/); // 1.125² − 0.75 = 0.515625 → 0.5625
    expect(lines[2]).toMatch(/NaR$/);
  });

  const bad: readonly [string, readonly string[], string, RegExp][] = [
    ["wrong arity", ["posit8", "add"], "[[1, 2], [3]]", /^stdin: element 1: \[3\] is not an array of 2 codes/],
    ["code out of range", ["posit8", "mul"], "[[1, 2], [1, 256]]", /^stdin: element 1, operand 1: 256 is not a posit8 code \(integers 0\.\.255\)/],
    ["not an integer", ["posit16", "sqrt"], "[[1.5]]", /^stdin: element 0, operand 0: 1\.5 is not a posit16 code/],
    ["malformed JSON", ["posit8", "add"], "[[1, 2]", /^stdin: not valid JSON at line 1, column 8/],
    ["not an array", ["posit8", "add"], "{}", /^stdin: expected a JSON array of \[a, b\] code tuples/],
    ["unknown op", ["posit8", "pow"], "[[1, 2]]", /^numforge eval: OP "pow" is not an operation; use one of add, sub, mul, div, sqrt, fma/],
    ["a float format", ["e4m3", "add"], "[[1, 2]]", /^numforge eval: e4m3 is a float format; eval supports posit formats only/],
  ];
  for (const [what, args, stdin, message] of bad) {
    it(`${what}: one line saying where, exit 2`, async () => {
      const run = await numforgeInProcess(["eval", ...args, "--json"], stdin);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe("");
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr).toMatch(message);
    });
  }

  it("as a real process: codes on stdout, exit 0; bad input exit 2 without a stack trace", async () => {
    const ok = await numforge(["eval", "posit8", "add", "--json"], "[[64, 64], [127, 1], [128, 3]]");
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual([positOp({ n: 8, es: 0 }, "add", [64, 64]), 127, 128]);
    const bad = await numforge(["eval", "posit8", "add", "--json"], "[[64]]");
    expect(bad.code).toBe(2);
    expect(bad.stderr).not.toMatch(STACK_TRACE);
  });
});
