/**
 * Golden files of generated JS for two formats (an 8-bit float through tables, a 16-bit posit
 * through arithmetic). A change to lowering or rendering shows up here as a diff to review;
 * regenerate deliberately with `UPDATE_GOLDEN=1 npx vitest run test/codegen/golden.test.ts`.
 */
import { describe, expect, it } from "vitest";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { compileFormat } from "../../src/codegen/compile.ts";
import { JS_GEMM_SCHEDULE } from "../../src/codegen/schedule.ts";
import { renderJs } from "../../src/targets/js/render.ts";
import { builtin } from "../support/formats.ts";

const UPDATE = process.env.UPDATE_GOLDEN === "1";

describe("golden generated source", () => {
  for (const name of ["e4m3", "posit16"]) {
    it(`${name}: the JS target's source is unchanged`, () => {
      const source = renderJs(compileFormat(builtin(name), JS_GEMM_SCHEDULE).module);
      const file = new URL(`../golden/${name}.js.golden`, import.meta.url);
      if (UPDATE) writeFileSync(file, source);
      expect(existsSync(file), `missing golden file; create it with UPDATE_GOLDEN=1`).toBe(true);
      expect(source).toBe(readFileSync(file, "utf8"));
    });
  }
});
