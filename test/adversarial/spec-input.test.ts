/**
 * Hostile or careless spec files (issue 15): each ends in one line on stderr that says where (file,
 * line and column, JSON pointer) and what is allowed, exit 2, nothing on stdout — never a hang,
 * an "internal error" or a stack trace. Runs the CLI in-process (runCli on in-memory streams).
 */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as Effect from "effect/Effect";
import { describe, expect, it } from "vitest";
import { createRegistry } from "../../src/dsl/registry.ts";
import { MAX_JSON_DEPTH } from "../../src/dsl/json-text.ts";
import { MAX_SPEC_FILE_BYTES } from "../../src/dsl/user-text.ts";
import { createRecipeRegistry } from "../../src/recipes/load.ts";
import { numforgeInProcess, ROOT, STACK_TRACE, type CliResult } from "../cli/harness.ts";

const dir = mkdtempSync(join(tmpdir(), "numforge-adv-spec-"));
const builtinText = (name: string) => readFileSync(join(ROOT, "formats", `${name}.json`), "utf8");

/** Writes `text` (or bytes) as `name` in a fresh folder of its own (or in `folder`) and returns the path. */
function write(name: string, text: string | Uint8Array, folder = mkdtempSync(join(dir, "case-"))): string {
  const file = join(folder, name);
  writeFileSync(file, text);
  return file;
}

/**
 * A block-scaled spec named `name` whose scale format is `scaleFormat`: mxfp8 with its scale
 * format's name replaced, so it follows whatever shape the schema gives block scaling.
 */
function blockSpec(name: string, scaleFormat: string): string {
  const text = builtinText("mxfp8");
  expect(text).toContain('"e8m0"');
  return text.replace('"mxfp8"', JSON.stringify(name)).replace('"e8m0"', JSON.stringify(scaleFormat));
}

/** e4m3 under a name of its own (a user's spec may not take a built-in's name). */
const ownE4m3 = (name = "my-e4m3") => builtinText("e4m3").replace('"e4m3"', JSON.stringify(name));

const check = (path: string) => numforgeInProcess(["check", path]);

/** One user error: exit 2, one line matching `line`, nothing on stdout, no stack trace. */
function expectOneLine(result: CliResult, line: string | RegExp): void {
  expect(result.stdout).toBe("");
  expect(result.code).toBe(2);
  expect(result.stderr).not.toMatch(STACK_TRACE);
  expect(result.stderr).not.toMatch(/internal error/);
  expect(result.stderr.endsWith("\n")).toBe(true);
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  if (typeof line === "string") expect(lines[0]).toBe(line);
  else expect(lines[0]).toMatch(line);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const CYCLE_HINT = "a format cannot be its own scale format, directly or through other specs";

describe("spec references are cycle-checked", () => {
  it("a block format whose scale format is itself", async () => {
    const file = write("loop.json", blockSpec("loop", "loop"));
    expectOneLine(await check(file), new RegExp(`^${escape(file)}: line \\d+, column \\d+: /scaling/\\S+: spec references form a cycle: loop\\.json → loop\\.json; ${CYCLE_HINT}$`));
  });

  it("two specs that are each other's scale format, from either end", async () => {
    const folder = mkdtempSync(join(dir, "pair-"));
    const a = write("a.json", blockSpec("a", "b"), folder);
    const b = write("b.json", blockSpec("b", "a"), folder);
    expectOneLine(await check(a), new RegExp(`^${escape(a)}: line \\d+, column \\d+: /scaling/\\S+: spec references form a cycle: a\\.json → b\\.json → a\\.json; `));
    expectOneLine(await check(b), new RegExp(`^${escape(b)}: line \\d+, column \\d+: /scaling/\\S+: spec references form a cycle: b\\.json → a\\.json → b\\.json; `));
  });

  it("a spec that leads into a cycle it is not part of", async () => {
    const folder = mkdtempSync(join(dir, "lead-"));
    const c = write("c.json", blockSpec("c", "d"), folder);
    write("d.json", blockSpec("d", "e"), folder);
    write("e.json", blockSpec("e", "d"), folder);
    expectOneLine(await check(c), new RegExp(`^${escape(c)}: line \\d+, column \\d+: /scaling/\\S+: spec references form a cycle: d\\.json → e\\.json → d\\.json; `));
  });

  it("compile and compare meet the same message (compare through a format spec and through a recipe)", async () => {
    const file = write("loop.json", blockSpec("loop", "loop"));
    const expected = new RegExp(`^${escape(file)}: line \\d+, column \\d+: /scaling/\\S+: spec references form a cycle: loop\\.json → loop\\.json; `);
    expectOneLine(await numforgeInProcess(["compile", file, "--out", join(dir, "never-written")]), expected);
    expectOneLine(await numforgeInProcess(["compare", "--formats", file, "--out", join(dir, "never-run")]), expected);
    const recipe = write("recipe.json", JSON.stringify({ name: "loopy", summary: "x", master: "fp32", roles: { weights: file, activations: "fp32", errors: "fp32", weightGradients: "fp32", optimizerState: "fp32" } }));
    const error = Effect.runSync(Effect.flip(createRecipeRegistry(createRegistry()).get(recipe)));
    expect(error.toString()).toMatch(/spec references form a cycle: loop\.json → loop\.json/);
  });
});

describe("input sizes have stated limits", () => {
  it("a never-ending file (/dev/zero) stops at the spec size cap", async () => {
    expectOneLine(await check("/dev/zero"), "/dev/zero: /: larger than 1 MiB, the limit for spec files");
  });

  it("a spec file over 1 MiB, however it is padded", async () => {
    const padded = `${ownE4m3().trimEnd()}${" ".repeat(MAX_SPEC_FILE_BYTES)}\n`;
    const file = write("big.json", padded);
    expectOneLine(await check(file), `${file}: /: larger than 1 MiB, the limit for spec files`);
  });

  it("a recipe file over 1 MiB (and /dev/zero as a recipe)", async () => {
    const file = write("big-recipe.json", `{"name": "${"x".repeat(MAX_SPEC_FILE_BYTES)}"}`);
    const recipes = createRecipeRegistry(createRegistry());
    expect(Effect.runSync(Effect.flip(recipes.get(file))).toString()).toBe(`${file}: /: larger than 1 MiB, the limit for recipe files`);
    expectOneLine(await numforgeInProcess(["compare", "--formats", "/dev/zero", "--out", join(dir, "never-run")]), "/dev/zero: /: larger than 1 MiB, the limit for recipe files");
  });

  it(`nesting 100,000 deep stops at ${MAX_JSON_DEPTH} levels, with no call stack to exhaust`, async () => {
    const file = write("deep.json", `${"[".repeat(100_000)}${"]".repeat(100_000)}`);
    expectOneLine(await check(file), `${file}: line 1, column ${MAX_JSON_DEPTH + 1}: /: not valid JSON: nested deeper than ${MAX_JSON_DEPTH} levels; nothing this program reads nests that deep`);
  });

  it("a 100 kB field is quoted cut to 60 characters with its length", async () => {
    const name = "X".repeat(100_000);
    const file = write("long-name.json", ownE4m3(name));
    const result = await check(file);
    expectOneLine(result, new RegExp(`^${escape(file)}: line 3, column 3: /name: must be a lower-case identifier.*\\(got "X{58}… \\(100002 characters\\)\\)$`));
    expect(result.stderr.length).toBeLessThan(400);
  });

  it("a 100 kB unknown field name and a 100 kB format name are cut as well", async () => {
    const field = "f".repeat(100_000);
    const file = write("long-field.json", ownE4m3().replace('"rounding"', `"${field}": 1, "rounding"`));
    const result = await check(file);
    expectOneLine(result, new RegExp(`: /f+: unknown field "f{59}… \\(100000 characters\\)"; allowed fields: `));
    expect(result.stderr.length).toBeLessThan(300_000);
    expect(result.stderr.split(field).length).toBe(2); // the pointer names the field once; the message does not repeat it
    const unknown = await check("q".repeat(100_000));
    expectOneLine(unknown, /^unknown format "q{59}… \(100000 characters\)" \(run `numforge formats`/);
  });
});

describe("what a JSON text says is taken as written, or refused", () => {
  it("a number beyond float64 (1e400) names its pointer, line and column", async () => {
    const file = write("huge.json", ownE4m3().replace('"bias": 7', '"bias": 1e400'));
    expectOneLine(await check(file), `${file}: line 9, column 13: /element/bias: 1e400 is beyond the float64 range (about ±1.8e308); a JSON number must be finite`);
  });

  it("a duplicate key names both places", async () => {
    const file = write("dup.json", ownE4m3().replace('"bias": 7,', '"bias": 7, "bias": 8,'));
    expectOneLine(await check(file), `${file}: line 9, column 16: /element/bias: duplicate key "bias" (first at line 9, column 5); each key may appear once in an object`);
  });

  it("a UTF-8 byte-order mark is accepted", async () => {
    const file = write("bom.json", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ownE4m3())]));
    const result = await check(file);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ok: .*bom\.json is a valid format/);
  });

  it("UTF-16, with or without its byte-order mark, is named", async () => {
    const withBom = write("utf16.json", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(ownE4m3(), "utf16le")]));
    expectOneLine(await check(withBom), `${withBom}: /: the text is UTF-16; save it as UTF-8`);
    const bare = write("utf16-bare.json", Buffer.from(ownE4m3(), "utf16le"));
    expectOneLine(await check(bare), `${bare}: /: byte 1 is NUL: this is not UTF-8 text (it looks like UTF-16; save it as UTF-8)`);
  });

  it("bytes that are not UTF-8", async () => {
    const file = write("latin1.json", Buffer.from(ownE4m3().replace("OCP", "OCP \u00e9"), "latin1"));
    expectOneLine(await check(file), `${file}: /: the text is not valid UTF-8; save it as UTF-8`);
  });

  it("a semantic error gets the line and column of its field", async () => {
    const file = write("bias.json", ownE4m3().replace('"bias": 7', '"bias": 200'));
    expectOneLine(await check(file), new RegExp(`^${escape(file)}: line 9, column 5: /element/bias: bias 200 `));
  });
});

describe("paths that are no spec file", () => {
  it("a symlink loop is a loop, not 'no such file'", async () => {
    const folder = mkdtempSync(join(dir, "loop-"));
    symlinkSync(join(folder, "b.json"), join(folder, "a.json"));
    symlinkSync(join(folder, "a.json"), join(folder, "b.json"));
    expectOneLine(await check(join(folder, "a.json")), `${join(folder, "a.json")}: /: a loop of symbolic links: the path never reaches a file`);
  });

  it("a folder, and a missing file", async () => {
    const folder = mkdtempSync(join(dir, "folder-"));
    mkdirSync(join(folder, "x.json"));
    expectOneLine(await check(join(folder, "x.json")), `${join(folder, "x.json")}: /: is a folder, not a file`);
    expectOneLine(await check(join(folder, "missing.json")), `${join(folder, "missing.json")}: /: no such file`);
  });
});

describe("a built-in's name always means the built-in", () => {
  it("a user's spec file may not take a built-in's name", async () => {
    const file = write("e4m3.json", builtinText("e4m3"));
    expectOneLine(await check(file), `${file}: line 3, column 3: /name: "e4m3" is the name of a built-in format; give this spec a name of its own (a built-in's name always means the built-in)`);
  });

  it("a file beside a block spec with a scale format's built-in name is refused, not silently used", async () => {
    const folder = mkdtempSync(join(dir, "shadow-"));
    const spec = write("my-mx.json", blockSpec("my-mx", "e8m0"), folder);
    const sibling = write("e8m0.json", builtinText("e8m0").replace('"e8m0"', '"my-e8m0"'), folder);
    expectOneLine(await check(spec), new RegExp(`^${escape(spec)}: line \\d+, column \\d+: /scaling/\\S+: "e8m0" names a built-in format and also the file ${escape(sibling)}; a built-in's name always means the built-in, so rename that file and refer to it by its new name$`));
  });

  it("the built-in files themselves, by path, and a sibling under a name of its own still resolve", async () => {
    const result = await check(join(ROOT, "formats", "mxfp8.json"));
    expect(result.code).toBe(0);
    const folder = mkdtempSync(join(dir, "sibling-"));
    write("my-e8m0.json", builtinText("e8m0").replace('"e8m0"', '"my-e8m0"'), folder);
    const spec = write("my-mx.json", blockSpec("my-mx", "my-e8m0"), folder);
    const ok = await check(spec);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
  });
});
