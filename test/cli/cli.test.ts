/**
 * Tests of the numforge CLI. Every run starts when this file loads and each test awaits its own,
 * so the slow process starts overlap. `numforge` spawns `node bin/numforge.js` (exit status,
 * pipes, large output flushed, no stack trace: at least one real process per command);
 * `numforgeInProcess` runs the same runCli path on in-memory streams for the other cases.
 * Expected values come from literals and from dsl/semantics, the oracle the CLI must agree with.
 */
import * as Effect from "effect/Effect";
import { describe, expect, it } from "vitest";
import { builtinFormatNames, loadFormat } from "../../src/dsl/registry.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { decode, encode } from "../../src/dsl/semantics/scalar.ts";
import { fakeQuantize } from "../../src/dsl/semantics/tensor.ts";
import { valueToJson, type JsonValue } from "../../src/cli/json-io.ts";
import { numforge, numforgeInProcess as inProcess, STACK_TRACE, type CliResult } from "./harness.ts";

/** Either way of running the CLI: a real process (numforge) or in-process. */
type Runner = (args: readonly string[], stdin?: string) => Promise<CliResult>;
const json = (value: unknown) => JSON.stringify(value);
const allCodes = (n: number) => Array.from({ length: n }, (_, c) => c);
const decodedJson = (name: string, options: { scale?: number; zeroPoint?: number } = {}) => {
  const format = loadFormat(name);
  return allCodes(format.codeCount).map((c) => valueToJson(decode(format, c, options)));
};

/** A successful --json run: exit 0, nothing on stderr, stdout exactly one JSON document. */
function jsonOutput<T = unknown>(result: CliResult): T {
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  expect(result.stdout.endsWith("\n")).toBe(true);
  return JSON.parse(result.stdout) as T;
}

/** A user error: exit 2, nothing on stdout, one line on stderr, no stack trace. */
function userError(result: CliResult): string {
  expect(result.stdout).toBe("");
  expect(result.code).toBe(2);
  expect(result.stderr).not.toMatch(STACK_TRACE);
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  return result.stderr.trimEnd();
}

// Stochastic rounding: 64 copies of 0.3 land on 0.28125 or 0.3125 (E4M3 codes 0x29, 0x2a).
const STOCHASTIC_INPUT = Array(64).fill(0.3);
const stochastic = (run: Runner, seed: number) => run(["encode", "e4m3", "--rounding", "stochastic:8", "--seed", String(seed), "--json"], json(STOCHASTIC_INPUT));

// Two MX blocks of very different magnitude, and a tensor for S2FP8 spanning many binades.
const MX_INPUT = allCodes(64).map((i) => Math.fround(Math.sin(i + 1) * 2 ** ((i % 11) - 5) * (i < 32 ? 1 : 1000)));
const S2_INPUT = allCodes(48).map((i) => Math.fround((i % 2 === 0 ? 1 : -1) * 1.3 ** (i - 24)));
const SQ_INPUT = allCodes(16).map((i) => Math.fround((i + 1) * 0.37 * 2 ** Math.floor(i / 4)));

// int8 with scale 0.5 and zero point 3: every code's value, plus values that round, tie and clamp.
const INT8_AFFINE = ["--scale", "0.5", "--zero-point", "3"];
const INT8_EXTRA = [0.25, 0.75, -1, 100, -100, "NaN"];

const runs = {
  formats: numforge(["formats"]),
  formatsJson: inProcess(["formats", "--json"]),
  check: numforge(["check", "formats/e4m3.json"]),
  tableE4m3: inProcess(["table", "e4m3", "--json"]),
  tableFp16: numforge(["table", "fp16", "--json"]),
  tableFp32: inProcess(["table", "fp32", "--json"]),
  e4m3Decode: inProcess(["decode", "e4m3", "--json"], json(allCodes(256))),
  e4m3Encode: numforge(["encode", "e4m3", "--json"], json(decodedJson("e4m3"))),
  e4m3Text: inProcess(["encode", "e4m3"], json([448, 0.1, "NaN"])),
  e5m2Decode: inProcess(["decode", "e5m2", "--json"], json(allCodes(256))),
  e5m2Encode: inProcess(["encode", "e5m2", "--overflow", "infinity", "--json"], json(decodedJson("e5m2"))),
  posit8Decode: inProcess(["decode", "posit8", "--json"], json(allCodes(256))),
  posit8Encode: inProcess(["encode", "posit8", "--json"], json([...decodedJson("posit8"), 1e-9, 1e9, "Infinity"])),
  int8Decode: inProcess(["decode", "int8", ...INT8_AFFINE, "--json"], json(allCodes(256))),
  int8Encode: inProcess(["encode", "int8", ...INT8_AFFINE, "--json"], json([...decodedJson("int8", { scale: 0.5, zeroPoint: 3 }), ...INT8_EXTRA])),
  seed1: stochastic(numforge, 1),
  seed1Again: stochastic(inProcess, 1),
  seed2: stochastic(inProcess, 2),
  mxfp8Encode: numforge(["encode", "mxfp8", "--json"], json(MX_INPUT)),
  s2fp8Encode: inProcess(["encode", "s2fp8", "--json"], json(S2_INPUT)),
  shiftquantEncode: inProcess(["encode", "shiftquant4", "--channels", "4", "--json"], json(SQ_INPUT)),
  unknownFormat: numforge(["encode", "e4m4", "--json"], "[1]"),
  notJson: inProcess(["encode", "e4m3", "--json"], "[1, 2"),
  notANumber: numforge(["encode", "e4m3", "--json"], json([1, 2, "abc", 4])),
  codeOutOfRange: inProcess(["decode", "e4m3", "--json"], json([0, 255, 256])),
  help: numforge(["--help"]),
  helpEncode: inProcess(["help", "encode"]),
  unknownCommand: inProcess(["encdoe", "e4m3"]),
  unknownFlag: inProcess(["encode", "e4m3", "--roundin", "toward-zero"]),
  nothingPiped: inProcess(["encode", "e4m3", "--json"]),
  defect: inProcess(["boom"], undefined, [
    {
      name: "boom",
      summary: "a command with a bug",
      load: async () => ({ command: { usage: "", description: "", positionals: [], flags: [], examples: [], run: () => Effect.die(new Error("kaboom")) } }),
    },
  ]),
};
// Decoding what encode printed, through the metadata.
const decodeWhatEncodePrinted = (run: Runner, name: string, encoded: Promise<CliResult>) => encoded.then((r) => run(["decode", name, "--json"], r.stdout));
const chained = {
  mxfp8Decode: decodeWhatEncodePrinted(numforge, "mxfp8", runs.mxfp8Encode),
  s2fp8Decode: decodeWhatEncodePrinted(inProcess, "s2fp8", runs.s2fp8Encode),
  shiftquantDecode: decodeWhatEncodePrinted(inProcess, "shiftquant4", runs.shiftquantEncode),
  wrongMeta: runs.mxfp8Encode.then((r) => {
    const printed = JSON.parse(r.stdout) as { codes: number[]; meta: object };
    return inProcess(["decode", "mxfp8", "--json"], json({ codes: printed.codes, meta: { ...printed.meta, kind: "amax" } }));
  }),
};

describe("numforge formats", () => {
  it("lists every built-in format in aligned columns", async () => {
    const result = await runs.formats;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^name\s+bits\s+kind\s+max finite\s+min normal\s+min subnormal\s+epsilon\s+binades\s+specials\s+summary$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual(builtinFormatNames());
    const e4m3 = lines.find((l) => l.startsWith("e4m3 "));
    expect(e4m3).toMatch(/^e4m3\s+8\s+float E4M3\s+448\s+2\^-6\s+2\^-9\s+0\.125\s+17\.81\s+NaN -0\s+OCP FP8/);
    expect(lines.find((l) => l.startsWith("fp32 "))).toMatch(/3\.403e38\s+2\^-126\s+2\^-149\s+2\^-23\s+277\s+Inf NaN -0/);
  });

  it("--json gives every format's properties", async () => {
    const formats = jsonOutput<{ name: string; maxFinite: JsonValue; epsilon: JsonValue; codes: { nan: number | null } }[]>(await runs.formatsJson);
    expect(formats.map((f) => f.name)).toEqual(builtinFormatNames());
    const e4m3 = formats.find((f) => f.name === "e4m3");
    expect(e4m3).toMatchObject({ maxFinite: 448, minSubnormal: 2 ** -9, codes: { nan: 0x7f, negativeZero: 0x80 } });
  });
});

describe("numforge check", () => {
  it("prints the resolved properties of a valid spec and exits 0", async () => {
    const result = await runs.check;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/^max finite\s+448$/m);
    expect(result.stdout).toMatch(/^min subnormal\s+0\.001953125 = 2\^-9 \(smallest positive\)$/m);
    expect(result.stdout).toMatch(/^code NaN\s+0x7f \(127\)$/m);
    expect(result.stdout).toMatch(/^code -0\s+0x80 \(128\)$/m);
    expect(result.stdout).toMatch(/^ok: formats\/e4m3\.json is a valid format$/m);
  });
});

describe("numforge table", () => {
  it("e4m3 --json: 256 codes with 448, NaN at 0x7f and -0 at 0x80", async () => {
    const table = jsonOutput<{ code: number; value: JsonValue }[]>(await runs.tableE4m3);
    expect(table).toHaveLength(256);
    expect(table.every((entry, i) => entry.code === i && Object.keys(entry).join() === "code,value")).toBe(true);
    expect(table[0x7e].value).toBe(448);
    expect(table[0x7f].value).toBe("NaN");
    expect(table[0x80].value).toBe("-0");
    expect(table[0xfe].value).toBe(-448);
    expect(table[0x01].value).toBe(2 ** -9);
    expect(table.map((e) => e.value)).toEqual(decodedJson("e4m3"));
  });

  it("fp16 --json: all 65536 codes", async () => {
    const table = jsonOutput<{ code: number; value: JsonValue }[]>(await runs.tableFp16);
    expect(table).toHaveLength(65536);
    expect(table[0x3c00].value).toBe(1);
    expect(table[0x7bff].value).toBe(65504);
    expect(table[0x0001].value).toBe(2 ** -24);
    expect(table[0x7c00].value).toBe("Infinity");
    expect(table[0xfc00].value).toBe("-Infinity");
    expect(table[0x7e00].value).toBe("NaN");
    expect(table[0x8000].value).toBe("-0");
    expect(table.map((e) => e.value)).toEqual(decodedJson("fp16"));
  });

  it("refuses formats wider than 16 bits", async () => {
    expect(userError(await runs.tableFp32)).toMatch(/fp32 has 32-bit codes .*at most 16 bits/);
  });
});

describe("numforge encode / decode", () => {
  it("e4m3: decode gives every code's value, encode gives the codes back (NaN → 0x7f)", async () => {
    expect(jsonOutput(await runs.e4m3Decode)).toEqual(decodedJson("e4m3"));
    const codes = jsonOutput<number[]>(await runs.e4m3Encode);
    expect(codes).toEqual(allCodes(256).map((c) => (c === 0xff ? 0x7f : c)));
  });

  it("e5m2 with --overflow infinity: the special string forms both ways", async () => {
    const values = jsonOutput<JsonValue[]>(await runs.e5m2Decode);
    expect([values[0x7c], values[0xfc], values[0x7e], values[0x80], values[0x00]]).toEqual(["Infinity", "-Infinity", "NaN", "-0", 0]);
    expect(values[0x7b]).toBe(57344);
    const codes = jsonOutput<number[]>(await runs.e5m2Encode);
    expect(codes).toEqual(allCodes(256).map((c) => (values[c] === "NaN" ? 0x7e : c)));
  });

  it("posit8: round trip of every code; tiny → minpos, huge and ±Inf → maxpos / NaR", async () => {
    const values = jsonOutput<JsonValue[]>(await runs.posit8Decode);
    expect([values[0x40], values[0x7f], values[0x01], values[0x80]]).toEqual([1, 64, 2 ** -6, "NaN"]);
    const codes = jsonOutput<number[]>(await runs.posit8Encode);
    expect(codes).toEqual([...allCodes(256), 0x01, 0x7f, 0x80]);
  });

  it("int8 with --scale and --zero-point: round trip, ties to even, clamping, NaN → min", async () => {
    const values = jsonOutput<JsonValue[]>(await runs.int8Decode);
    expect([values[3], values[0], values[127], values[128]]).toEqual([0, -1.5, 62, -65.5]);
    expect(values).toEqual(decodedJson("int8", { scale: 0.5, zeroPoint: 3 }));
    const codes = jsonOutput<number[]>(await runs.int8Encode);
    expect(codes.slice(0, 256)).toEqual(allCodes(256));
    expect(codes.slice(256)).toEqual([3, 5, 1, 127, 128, 128]);
  });

  it("prints a readable table without --json", async () => {
    const result = await runs.e4m3Text;
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^#\s+input\s+code\s+hex\s+decoded$/);
    expect(lines[1]).toMatch(/^0\s+448\s+126\s+0x7e\s+448$/);
    expect(lines[3]).toMatch(/^2\s+NaN\s+127\s+0x7f\s+NaN$/);
  });
});

describe("stochastic rounding", () => {
  it("is reproducible for a seed, differs for another, and draws counterRandom(seed, index)", async () => {
    const [a, again, b] = [jsonOutput<number[]>(await runs.seed1), jsonOutput<number[]>(await runs.seed1Again), jsonOutput<number[]>(await runs.seed2)];
    expect(again).toEqual(a);
    expect(b).not.toEqual(a);
    expect(new Set([...a, ...b])).toEqual(new Set([0x29, 0x2a]));
    const e4m3 = loadFormat("e4m3");
    const rounding = { mode: "stochastic", bits: 8 } as const;
    expect(a).toEqual(STOCHASTIC_INPUT.map((x, i) => encode(e4m3, x, { rounding, random: counterRandom(1, i) })));
  });
});

describe("scaled formats: encode prints codes and meta, decode takes them back", () => {
  it.each([
    ["mxfp8", MX_INPUT, runs.mxfp8Encode, chained.mxfp8Decode, undefined],
    ["s2fp8", S2_INPUT, runs.s2fp8Encode, chained.s2fp8Decode, undefined],
    ["shiftquant4", SQ_INPUT, runs.shiftquantEncode, chained.shiftquantDecode, 4],
  ] as const)("%s", async (name, input, encoded, decoded, channels) => {
    const printed = jsonOutput<{ codes: number[]; meta: { kind: string } }>(await encoded);
    expect(Object.keys(printed)).toEqual(["codes", "meta"]);
    expect(printed.codes).toHaveLength(input.length);
    const expected = fakeQuantize(loadFormat(name), Float32Array.from(input), { channels });
    expect(printed.meta.kind).toBe(expected.meta.kind);
    expect(jsonOutput(await decoded)).toEqual(Array.from(expected.values, valueToJson));
  });

  it("mxfp8 meta holds one E8M0 scale code per block of 32 along the row", async () => {
    const printed = jsonOutput<{ meta: { shape: number[]; tile: number[]; scaleCodes: number[] } }>(await runs.mxfp8Encode);
    expect(printed.meta.shape).toEqual([1, MX_INPUT.length]);
    expect(printed.meta.tile).toEqual([1, 32]);
    expect(printed.meta.scaleCodes).toHaveLength(2);
    expect(printed.meta.scaleCodes[1] - printed.meta.scaleCodes[0]).toBeGreaterThanOrEqual(9);
  });

  it("decode refuses metadata of another scaling kind", async () => {
    expect(userError(await chained.wrongMeta)).toBe(`stdin: meta.kind: "amax" does not match mxfp8, whose scaling is "block"`);
  });
});

describe("bad input", () => {
  it("an unknown format suggests close names", async () => {
    const message = userError(await runs.unknownFormat);
    expect(message).toMatch(/^unknown format "e4m4"; did you mean .*\be4m3\b/);
  });

  it("stdin that is not JSON says where", async () => {
    expect(userError(await runs.notJson)).toMatch(/^stdin: not valid JSON at line 1, column 6: /);
  });

  it("a non-number element is named", async () => {
    expect(userError(await runs.notANumber)).toMatch(/^stdin: element 2: "abc" is not a number/);
  });

  it("a code out of range is named", async () => {
    expect(userError(await runs.codeOutOfRange)).toBe("stdin: element 2: 256 is out of range (e4m3 codes are 0..255)");
  });
});

describe("help and usage errors", () => {
  it("--help lists every command", async () => {
    const result = await runs.help;
    expect(result.code).toBe(0);
    for (const name of ["formats", "check", "table", "encode", "decode"]) expect(result.stdout).toMatch(new RegExp(`^  ${name}\\s+\\S`, "m"));
  });

  it("help COMMAND shows its usage and flags", async () => {
    const result = await runs.helpEncode;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: numforge encode FORMAT /);
    expect(result.stdout).toMatch(/^  --rounding R\s+nearest-even \| nearest-away \| toward-zero \| toward-positive \| toward-negative \| odd \| stochastic:BITS/m);
  });

  it("an unknown command exits 2 with a suggestion", async () => {
    expect(userError(await runs.unknownCommand)).toMatch(/^numforge: unknown command "encdoe" \(did you mean encode\?\)/);
  });

  it("an unknown flag exits 2 with a suggestion", async () => {
    expect(userError(await runs.unknownFlag)).toMatch(/^numforge encode: unknown flag "--roundin" \(did you mean --rounding\?\)/);
  });

  it("a command that needs stdin says so when nothing is piped in", async () => {
    expect(userError(await runs.nothingPiped)).toMatch(/^stdin: nothing piped in; expected a JSON array of numbers/);
  });

  it("an internal error exits 1 with its message and no stack trace", async () => {
    const result = await runs.defect;
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe("numforge: internal error: kaboom\n");
  });
});
