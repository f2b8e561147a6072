/**
 * Nothing from a spec is spliced into generated source as code: names must pass the schema and
 * become identifiers only after validation; strings travel as JSON data; constants as numbers.
 */
import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as Effect from "effect/Effect";
import { validateSpec } from "../../src/dsl/validate.ts";
import { packageFiles } from "../../src/package/package-files.ts";
import { writePackage } from "../../src/package/write-package.ts";
import { TARGETS } from "../../src/targets/registry.ts";
import { identifier, numberLiteral, renderJs } from "../../src/targets/js/render.ts";
import { kernel, f32 } from "../../src/codegen/ir/build.ts";
import { builtin } from "../support/formats.ts";

const PAYLOAD = `"; globalThis.__numforgePwned = true; //\n*/ globalThis.__numforgePwned = true; /* \${globalThis.__numforgePwned = true} </script>`;

describe("hostile spec strings", () => {
  it("the schema refuses a name that is not a plain identifier", () => {
    const spec = JSON.parse(readFileSync(new URL("../../formats/e4m3.json", import.meta.url), "utf8"));
    const result = Effect.runSync(Effect.result(validateSpec({ ...spec, name: PAYLOAD }, "hostile.json")));
    expect(result._tag).toBe("Failure");
  });

  it("even a format object built around the schema cannot execute its strings from a generated package", async () => {
    const hostile = { ...builtin("e4m3"), name: "hostile", summary: PAYLOAD };
    const { files, manifest } = await packageFiles(hostile, TARGETS);
    const dir = Effect.runSync(writePackage(join(mkdtempSync(join(tmpdir(), "numforge-hostile-")), "pkg"), files, manifest, false));
    const pkg = await import(pathToFileURL(join(dir, "index.js")).href);
    expect((globalThis as { __numforgePwned?: boolean }).__numforgePwned).toBeUndefined();
    expect(pkg.format.summary).toBe(PAYLOAD);
    // The payload appears only inside JSON string data, never in kernel source.
    for (const file of files) {
      const text = typeof file.contents === "string" ? file.contents : "";
      if (file.path.startsWith("js/")) expect(text).not.toContain("__numforgePwned");
    }
    expect([...pkg.encode(new Float32Array([1, 2])).codes]).toEqual([0x38, 0x40]);
  });

  it("the renderer emits names only as validated identifiers and constants only as numbers", () => {
    for (const bad of ["a b", "x;y", "1abc", "a-b", "", "x\n", "__proto__()"]) expect(() => identifier(bad)).toThrow(/refusing to emit/);
    expect(() => numberLiteral("1; alert(1)" as unknown as number)).toThrow(/refusing to emit/);
    expect(() => kernel("bad name; x", [], () => {})).toThrow(/invalid kernel name/);
    const sneaky = kernel("k", [{ kind: "buffer", name: "out", storage: "f32", access: "write" }], (b) => b.store("out; globalThis.__numforgePwned = true", f32(0), f32(1)));
    expect(() => renderJs({ kernels: [sneaky] })).toThrow(/refusing to emit/);
  });
});
