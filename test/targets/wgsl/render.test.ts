/**
 * The WGSL renderer and its passes without a GPU: the shape of a rendered shader (bindings,
 * uniforms, entry point) as a reviewed inline snapshot, exact constants, constant folding, the
 * packing of narrow buffers, and refusal of what WGSL cannot hold (names that are not
 * identifiers, f64, vectors) — anything from a spec reaches WGSL as data, never as code.
 */
import { describe, expect, it } from "vitest";
import { add, f32, i32, kernel, load, mul, ref, shl, u32 } from "../../../src/codegen/ir/build.ts";
import type { Kernel } from "../../../src/codegen/ir/nodes.ts";
import { lowerFormat } from "../../../src/codegen/lower/plans.ts";
import { compileWgsl, compileWgslKernel, hashText } from "../../../src/targets/wgsl/compile.ts";
import { foldKernel } from "../../../src/targets/wgsl/fold.ts";
import { f32Literal, i32Literal, wgslName } from "../../../src/targets/wgsl/literals.ts";
import { packKernel } from "../../../src/targets/wgsl/pack.ts";
import { PLAN_FORMATS } from "./plan-support.ts";

const scale = (): Kernel =>
  kernel(
    "scale",
    [
      { kind: "buffer", name: "x", storage: "f32", access: "read" },
      { kind: "buffer", name: "out", storage: "f32", access: "write" },
      { kind: "scalar", name: "n", type: "i32" },
    ],
    (b) => b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("out", i, mul(load("f32", "x", i), f32(0.1)))),
  );

describe("WGSL renderer", () => {
  it("renders an element loop as a grid kernel: storage bindings, one uniform struct, a grid-stride loop", () => {
    expect(compileWgslKernel(scale()).passes[0].wgsl.replace(/\/\/ IR compares[^]*?fn nf_div_f32[^]*?\n\}\n/, "<helpers>\n")).toMatchInlineSnapshot(`
      "// numforge kernel scale: one invocation per iteration
      struct nf_Scalars {
        v_n: i32,
        v_launch_trips: i32,
        v_launch_phase: i32,
        v_launch_first_unit: i32,
        v_launch_owned_base: i32,
        v_launch_units_x: i32,
        v_launch_stride_x: i32,
        v_launch_rounds_x: i32,
        v_launch_units_y: i32,
        v_launch_stride_y: i32,
        v_launch_rounds_y: i32,
        v_launch_parts: i32,
        v_launch_part_rounds: i32,
        nf_opaque_zero: u32,
      }
      @group(0) @binding(0) var<storage, read> v_x: array<f32>;
      @group(0) @binding(1) var<storage, read_write> v_out: array<f32>;
      @group(0) @binding(2) var<uniform> nf_scalars: nf_Scalars;

      <helpers>

      override nf_workgroup_x: u32 = 64u;
      override nf_workgroup_y: u32 = 1u;

      @compute @workgroup_size(nf_workgroup_x, nf_workgroup_y)
      fn main(@builtin(global_invocation_id) nf_gid: vec3u) {
        let nf_opaque_zero = nf_scalars.nf_opaque_zero;
        let v_n = nf_scalars.v_n;
        let v_launch_trips = nf_scalars.v_launch_trips;
        let v_launch_phase = nf_scalars.v_launch_phase;
        let v_launch_first_unit = nf_scalars.v_launch_first_unit;
        let v_launch_owned_base = nf_scalars.v_launch_owned_base;
        let v_launch_units_x = nf_scalars.v_launch_units_x;
        let v_launch_stride_x = nf_scalars.v_launch_stride_x;
        let v_launch_rounds_x = nf_scalars.v_launch_rounds_x;
        let v_launch_units_y = nf_scalars.v_launch_units_y;
        let v_launch_stride_y = nf_scalars.v_launch_stride_y;
        let v_launch_rounds_y = nf_scalars.v_launch_rounds_y;
        let v_launch_parts = nf_scalars.v_launch_parts;
        let v_launch_part_rounds = nf_scalars.v_launch_part_rounds;
        let v_invocation_x = i32(nf_gid.x);
        let v_invocation_y = i32(nf_gid.y);
        {
          let nf_end_0 = v_launch_rounds_x;
          for (var v_round: i32 = 0i; v_round < nf_end_0; v_round += 1i) {
            let v_unit = (v_invocation_x + (v_round * v_launch_stride_x));
            if ((v_unit < v_launch_units_x)) {
              let v_i_0 = v_unit;
              v_out[v_i_0] = (v_x[v_i_0] * bitcast<f32>(0x3dcccccdu ^ nf_opaque_zero));
            }
          }
        }
      }
      "
    `);
  });

  it("spells constants exactly: f32 by its bits (NaN, ±∞, −0 included), −2^31 without a literal", () => {
    expect(f32Literal(Math.fround(0.1))).toBe("bitcast<f32>(0x3dcccccdu ^ nf_opaque_zero)");
    expect(f32Literal(-0)).toBe("bitcast<f32>(0x80000000u ^ nf_opaque_zero)");
    expect(f32Literal(Number.NEGATIVE_INFINITY)).toBe("bitcast<f32>(0xff800000u ^ nf_opaque_zero)");
    expect(f32Literal(Number.NaN)).toBe("bitcast<f32>(0x7fc00000u ^ nf_opaque_zero)");
    expect(() => f32Literal(0.1)).toThrow(/not a float32/);
    expect(i32Literal(-(2 ** 31))).toBe("bitcast<i32>(0x80000000u)");
    expect(i32Literal(-5)).toBe("(-5i)");
  });

  it("folds operations on constants with the IR's semantics (WGSL would reject overflow and NaN at shader creation)", () => {
    const k = kernel("fold", [{ kind: "buffer", name: "out", storage: "u32", access: "write" }], (b) => {
      b.store("out", i32(0), add(u32(0xffffffff), u32(2)));
      b.store("out", i32(1), shl(u32(3), u32(33)));
    });
    expect(foldKernel(k).body.map((s) => (s.kind === "store" ? s.value : null))).toEqual([
      { kind: "const", type: "u32", value: 1 },
      { kind: "const", type: "u32", value: 6 },
    ]);
  });

  it("packs narrow buffers into u32 words: loads shift and mask, stores merge into their word", () => {
    const k = kernel(
      "copy8",
      [
        { kind: "buffer", name: "a", storage: "i8", access: "read" },
        { kind: "buffer", name: "b", storage: "u16", access: "write" },
        { kind: "scalar", name: "n", type: "i32" },
      ],
      (b) => b.for("i", i32(0), ref("i32", "n"), (i, body) => body.store("b", i, load("i32", "a", i))),
    );
    const { kernel: packed, packed: factors } = packKernel(k);
    expect(factors).toEqual({ a: 4, b: 2 });
    expect(packed.params.map((p) => (p.kind === "buffer" ? p.storage : p.type))).toEqual(["u32", "u32", "i32"]);
    const wgsl = compileWgslKernel(k).passes[0].wgsl;
    expect(wgsl).toContain("var<storage, read> v_a: array<u32>");
    expect(wgsl).toMatch(/v_b\[v_b_word\] = \(\(v_b_old & \(~\(65535u << /);
  });

  it("refuses names that are not identifiers, f64 and vectors", () => {
    expect(() => wgslName("x; }")).toThrow(/identifier/);
    const bad = { ...scale(), params: [{ kind: "buffer" as const, name: "x[0]", storage: "f32" as const, access: "read" as const }] };
    expect(() => compileWgslKernel(bad)).toThrow(/identifier/);
    const vector = kernel("v", [{ kind: "buffer", name: "o", storage: "f32", access: "write" }], (b) =>
      b.store("o", i32(0), { kind: "extract", type: "f32", lane: 0, arg: { kind: "splat", type: "f32x4", arg: f32(1) } }),
    );
    expect(() => compileWgslKernel(vector)).toThrow(/scalar/);
  });

  it("compiles every kernel of every format, each to its own shader with a stable hash", () => {
    for (const format of PLAN_FORMATS) {
      const compiled = compileWgsl({ kernels: lowerFormat(format).kernels });
      for (const k of compiled.kernels.flatMap((kernel) => kernel.passes)) {
        expect(k.hash).toBe(hashText(k.wgsl));
        expect(k.wgsl).toMatch(/@compute @workgroup_size\((1|nf_workgroup_x, nf_workgroup_y)\)/);
        expect(k.wgsl).not.toMatch(/\bf64\b/);
      }
    }
    expect(hashText("a")).not.toBe(hashText("b"));
  });
});
