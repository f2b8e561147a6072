/**
 * Hostile or careless CLI input (issue 15): stdin and flags. Each bad input ends in one line on
 * stderr saying where (line and column, element index) and what is allowed, exit 2; big inputs
 * work. In-process (runCli on in-memory streams) except where only a real process shows the
 * behaviour (bytes on stdin that are not UTF-8).
 */
import { describe, expect, it } from "vitest";
import { loadFormat } from "../../src/dsl/registry.ts";
import { decode, encode } from "../../src/dsl/semantics/scalar.ts";
import { decodeUserText } from "../../src/dsl/user-text.ts";
import { numforge, numforgeInProcess, STACK_TRACE, type CliResult } from "../cli/harness.ts";

/** One user error: exit 2, one line matching `line`, nothing on stdout, no stack trace. */
function expectOneLine(result: CliResult, line: string | RegExp): void {
  expect(result.stdout).toBe("");
  expect(result.code).toBe(2);
  expect(result.stderr).not.toMatch(STACK_TRACE);
  expect(result.stderr).not.toMatch(/internal error/);
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  if (typeof line === "string") expect(lines[0]).toBe(line);
  else expect(lines[0]).toMatch(line);
}

/** Multiples of 1/8 in [-2, 2): every one an e4m3 value. */
const values = (n: number) => Array.from({ length: n }, (_, i) => ((i % 32) - 16) / 8);

describe("many values on stdin", () => {
  const n = 200_000;

  it(`encode prints a table of ${n} values (the column widths once overflowed the call stack)`, async () => {
    const input = values(n);
    const result = await numforgeInProcess(["encode", "e4m3"], JSON.stringify(input));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(n + 1);
    // Each row decodes back to its input.
    for (const i of [0, 1, 777, n - 1]) expect(lines[i + 1].trim().split(/\s+/)).toEqual([String(i), expect.any(String), expect.any(String), expect.any(String), expect.any(String)]);
    const last = lines[n].trim().split(/\s+/);
    expect(Number(last[1])).toBe(input[n - 1]);
    expect(Number(last[4])).toBe(input[n - 1]);
  });

  it(`decode prints a table of ${n} codes, and --json round-trips them`, async () => {
    const codes = Array.from({ length: n }, (_, i) => i % 256);
    const table = await numforgeInProcess(["decode", "e4m3"], JSON.stringify(codes));
    expect(table.code).toBe(0);
    expect(table.stdout.trimEnd().split("\n")).toHaveLength(n + 1);
    const json = await numforgeInProcess(["decode", "e4m3", "--json"], JSON.stringify(codes));
    const decoded = JSON.parse(json.stdout) as unknown[];
    expect(decoded).toHaveLength(n);
    const back = await numforgeInProcess(["encode", "e4m3", "--json"], JSON.stringify(decoded));
    const recoded = JSON.parse(back.stdout) as number[];
    // Every code but the NaNs (0x7f, 0xff → "NaN" → 0x7f) comes back as itself.
    for (let i = 0; i < n; i++) expect(recoded[i] === codes[i] || (codes[i] & 0x7f) === 0x7f).toBe(true);
  });
});

describe("bad stdin: one line, where and what", () => {
  it("100,000-deep nesting stops at the depth limit, not the call stack", async () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    expectOneLine(await numforgeInProcess(["encode", "e4m3", "--json"], deep), /^stdin: not valid JSON at line 1, column 65: nested deeper than 64 levels; nothing this program reads nests that deep; expected a JSON array of numbers/);
    expectOneLine(await numforgeInProcess(["decode", "mxfp8"], deep), /^stdin: not valid JSON at line 1, column 65: nested deeper than 64 levels/);
  });

  it("a number beyond float64 names its element, in table and JSON mode alike; \"Infinity\" is the way to say infinity", async () => {
    const line = 'stdin: element 2, line 1, column 8: 1e400 is beyond the float64 range (about ±1.8e308); a JSON number must be finite; write "Infinity" or "-Infinity" for an infinity';
    expectOneLine(await numforgeInProcess(["encode", "e5m2"], "[1, 2, 1e400]"), line);
    expectOneLine(await numforgeInProcess(["encode", "e5m2", "--json"], "[1, 2, 1e400]"), line);
    expectOneLine(await numforgeInProcess(["encode", "e5m2", "--json"], "[1, 2, -1e400]"), /^stdin: element 2, line 1, column 8: -1e400 is beyond/);
    const inf = await numforgeInProcess(["encode", "e5m2", "--json", "--overflow", "infinity"], '[1, 2, "Infinity", "-Infinity"]');
    const e5m2 = loadFormat("e5m2");
    expect(JSON.parse(inf.stdout)).toEqual([1, 2, Infinity, -Infinity].map((x) => encode(e5m2, x, { overflow: "infinity" })));
    expect(decode(e5m2, (JSON.parse(inf.stdout) as number[])[2])).toBe(Infinity);
  });

  it("a number beyond float64 inside decode's metadata names its place", async () => {
    expectOneLine(await numforgeInProcess(["decode", "mxfp8"], '{"codes": [1], "meta": {"scales": [1e999]}}'), /^stdin: \/meta\/scales\/0, line 1, column 36: 1e999 is beyond the float64 range/);
  });

  it("a duplicate key", async () => {
    expectOneLine(await numforgeInProcess(["decode", "mxfp8"], '{"codes": [1], "codes": [2], "meta": {}}'), 'stdin: /codes, line 1, column 16: duplicate key "codes" (first at line 1, column 2); each key may appear once in an object');
  });

  it("a UTF-8 byte-order mark is skipped", async () => {
    const result = await numforgeInProcess(["encode", "e4m3", "--json"], "\ufeff[1, 2]");
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("[56,64]");
  });

  it("a long non-number element is quoted cut", async () => {
    const result = await numforgeInProcess(["encode", "e4m3", "--json"], JSON.stringify([1, "x".repeat(1_000_000)]));
    expectOneLine(result, /^stdin: element 1: "x{38}… \(1000002 characters\) is not a number/);
  });

  it("UTF-16 and other bytes that are not UTF-8 (a real process: the bytes reach stdin as they are)", async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("[1, 2]", "utf16le")]);
    expectOneLine(await numforge(["encode", "e4m3", "--json"], utf16 as unknown as string), "stdin: the text is UTF-16; save it as UTF-8");
    // The same decoding, without a process per case:
    expect(decodeUserText(Buffer.from("[1, 2]", "utf16le"))).toEqual({ ok: false, message: "byte 1 is NUL: this is not UTF-8 text (it looks like UTF-16; save it as UTF-8)" });
    expect(decodeUserText(Buffer.from([0x5b, 0xe9, 0x5d]))).toEqual({ ok: false, message: "the text is not valid UTF-8; save it as UTF-8" });
    expect(decodeUserText(Buffer.from([0xef, 0xbb, 0xbf, 0x5b, 0x5d]))).toEqual({ ok: true, text: "[]" });
  }, 60_000);
});

describe("flags and arguments: long values are quoted cut", () => {
  const long = "z".repeat(1_000_000);

  it("--rounding, --seed, an unknown flag, an extra argument, an unknown command", async () => {
    expectOneLine(await numforgeInProcess(["encode", "e4m3", "--rounding", long], "[1]"), /^numforge encode: --rounding must be nearest-even, nearest-away, toward-zero, toward-positive, toward-negative, odd or stochastic:BITS \(got "z{59}… \(1000000 characters\)"\)/);
    expectOneLine(await numforgeInProcess(["encode", "e4m3", "--seed", `1${"0".repeat(1000)}`], "[1]"), /^numforge encode: --seed must be a finite number \(got "10{58}… \(1001 characters\)"\)/);
    expectOneLine(await numforgeInProcess(["encode", "e4m3", `--${long}`], "[1]"), /^numforge encode: unknown flag "--z{57}… \(1000002 characters\)"; flags: /);
    expectOneLine(await numforgeInProcess(["table", "e4m3", long]), /^numforge table: unexpected argument "z{59}… \(1000000 characters\)"; usage: /);
    expectOneLine(await numforgeInProcess([long]), /^numforge: unknown command "z{59}… \(1000000 characters\)"; commands: /);
  });
});
