/**
 * The WGSL GEMM's shader skeleton: the loop nest laid out by hand (workgroup memory and
 * barriers have no IR), into which the IR-rendered functions of gemm-functions.ts are inserted.
 * Nothing here depends on a format; the operand element type is f32, or i32 on the exact
 * integer path.
 *
 * Layout (numbers in WGSL_GEMM_TILE): a workgroup of 16×16 invocations computes a 64×64 tile of C,
 * each invocation a 4×4 register tile (rows 4·y…4·y+3, columns 4·x…4·x+3 of the tile), held as
 * four vec4 accumulators. The depth is walked in steps of 16: each invocation decodes one vec4
 * of op(A) (4 rows at one depth step) and one of op(B) (4 columns) into workgroup memory —
 * exactly the 64×16 and 16×64 tiles with 256 invocations — then, after a barrier, runs the 16
 * steps as av.x·bv … av.w·bv on vec4 reads of the two tiles. Elements past m, n or k load as 0,
 * so edge tiles need no other guard until the bounds-checked write-back. Codes of ≤ 8 bits
 * decode through tables copied once per workgroup from their storage binding into workgroup
 * memory. Workgroups stride over the tiles (any m, n runs within 65535 workgroups a dimension).
 */
import { f32Literal, wgslName } from "./literals.ts";
import type { GemmAccumulation } from "./gemm-functions.ts";
import { OPAQUE_ZERO_LET, TABLES } from "./render.ts";

/** The shader's fixed schedule: invocations per workgroup side, register tile side, depth step; a tile of C is threads·register square. */
export const WGSL_GEMM_TILE = Object.freeze({ threads: 16, register: 4, depth: 16 });

const T = WGSL_GEMM_TILE.threads;
const R = WGSL_GEMM_TILE.register;
const D = WGSL_GEMM_TILE.depth;
/** Elements of C a workgroup covers along each side. */
export const GEMM_TILE_SIZE = T * R;
/** The storage binding of the tables when the shader reads a workgroup copy of them (named TABLES). */
export const GEMM_TABLE_BINDING = "nf_table_words";

// One vec4 of each operand tile per invocation and depth step block (see the file comment).
if (R !== 4 || D * T !== T * T) throw new Error("WGSL_GEMM_TILE: the load phase needs register 4 and depth = threads");

export interface GemmShaderParts {
  readonly name: string;
  readonly accumulation: GemmAccumulation;
  /** Module-scope declarations (render.ts renderDeclarations, tables bound as GEMM_TABLE_BINDING). */
  readonly declarations: readonly string[];
  /** The rendered functions nf_operand_a, nf_operand_b, nf_merge, nf_scale_c. */
  readonly functions: string;
  /** Words of the tables (0: no tables). */
  readonly tableWords: number;
  /** A declared accumulator's summation (its sum is the function nf_acc_add); absent: plain f32 sums. */
  readonly declared?: { readonly compensated: boolean; readonly promoteEvery: number | null };
}

const LANES = ["x", "y", "z", "w"] as const;

/** The statements that decode one vec4 of an operand tile (4 lanes at one depth step) into workgroup memory. */
function loadTile(which: "a" | "b", indent: string, zero: string, type: string): string[] {
  const lanes = which === "a" ? "nf_m" : "nf_n";
  const at = `nf_${which}_at`;
  // Stored (row, col) of op(A)(i, p): (i, p), transposed (p, i); of op(B)(p, j): (p, j), transposed (j, p).
  const stored = (lane: string) =>
    which === "a" ? `select(${lane}, nf_p, nf_trans_a), select(nf_p, ${lane}, nf_trans_a)` : `select(nf_p, ${lane}, nf_trans_b), select(${lane}, nf_p, nf_trans_b)`;
  const lines = [
    `${indent}{`,
    `${indent}  let nf_p = nf_k0 + nf_${which}_step;`,
    `${indent}  let nf_lane = nf_${which === "a" ? "row0" : "col0"} + ${R} * nf_${which}_group;`,
    `${indent}  let ${at} = nf_lane * nf_${which}_lane + nf_p * nf_${which}_depth;`,
    `${indent}  var nf_v = vec4<${type}>(${zero});`,
    `${indent}  if (nf_p < nf_k) {`,
  ];
  LANES.forEach((c, r) => {
    const lane = r === 0 ? "nf_lane" : `(nf_lane + ${r})`;
    const index = r === 0 ? at : `${at} + ${r} * nf_${which}_lane`;
    lines.push(`${indent}    if (${lane} < ${lanes}) { nf_v.${c} = nf_operand_${which}(${index}, ${stored(lane)}); }`);
  });
  lines.push(`${indent}  }`, `${indent}  nf_tile_${which}[nf_${which}_step * ${T} + nf_${which}_group] = nf_v;`, `${indent}}`);
  return lines;
}

/** The bounds-checked write-back of the 4×4 register tile. */
function writeBack(indent: string): string[] {
  const lines = [`${indent}let nf_i0 = nf_row0 + ${R} * nf_ty;`, `${indent}let nf_j0 = nf_col0 + ${R} * nf_tx;`];
  for (let r = 0; r < R; r++) {
    lines.push(`${indent}if (nf_i0 + ${r} < nf_m) {`, `${indent}  let nf_base = (nf_i0 + ${r}) * nf_n + nf_j0;`);
    LANES.forEach((c, j) => {
      const ci = j === 0 ? "nf_base" : `nf_base + ${j}`;
      lines.push(`${indent}  if (nf_j0 + ${j} < nf_n) { ${wgslName("c")}[${ci}] = select(nf_merge(nf_acc${r}.${c}, ${ci}), nf_scale_c(${ci}), nf_skip); }`);
    });
    lines.push(`${indent}}`);
  }
  return lines;
}

/**
 * One depth step of the register tile's sums: plain f32 multiply-adds, or under a declared
 * accumulator (dsl/semantics/accumulate.ts) only steps inside the depth, each output's product
 * f32(a·b) summed by nf_acc_add (Kahan: y, u, c as the semantics say) and every N steps the
 * partial sums promoted into nf_total (c reset).
 */
function sumStep(parts: GemmShaderParts, indent: string): string[] {
  const rows = Array.from({ length: R }, (_, r) => r);
  if (parts.declared === undefined) return rows.map((r) => `${indent}nf_acc${r} = nf_acc${r} + nf_av.${LANES[r]} * nf_bv;`);
  const { compensated, promoteEvery } = parts.declared;
  const lines = [`${indent}if (nf_k0 + nf_s < nf_k) {`];
  for (const r of rows) {
    for (const c of LANES) {
      const s = `nf_acc${r}.${c}`;
      const product = `nf_av.${LANES[r]} * nf_bv.${c}`;
      if (!compensated) lines.push(`${indent}  ${s} = nf_acc_add(${s}, ${product});`);
      else {
        const comp = `nf_comp${r}.${c}`;
        lines.push(
          `${indent}  {`,
          `${indent}    let nf_y = nf_acc_add(${product}, -${comp});`,
          `${indent}    let nf_u = nf_acc_add(${s}, nf_y);`,
          `${indent}    ${comp} = nf_acc_add(nf_acc_add(nf_u, -${s}), -nf_y);`,
          `${indent}    ${s} = nf_u;`,
          `${indent}  }`,
        );
      }
    }
  }
  if (promoteEvery !== null) {
    lines.push(`${indent}  nf_since = nf_since + 1;`, `${indent}  if (nf_since == ${promoteEvery}) {`);
    for (const r of rows) {
      lines.push(`${indent}    nf_total${r} = nf_total${r} + nf_acc${r};`, `${indent}    nf_acc${r} = vec4<f32>(${f32Literal(0)});`);
      if (compensated) lines.push(`${indent}    nf_comp${r} = vec4<f32>(${f32Literal(0)});`);
    }
    lines.push(`${indent}    nf_since = 0;`, `${indent}  }`);
  }
  lines.push(`${indent}}`);
  return lines;
}

/** Declarations of a tile's extra accumulator state (Kahan compensations, promoted totals, the step count) and, after the depth loop, the promoted sum. */
function declaredState(parts: GemmShaderParts, indent: string): { before: string[]; after: string[] } {
  if (parts.declared === undefined) return { before: [], after: [] };
  const rows = Array.from({ length: R }, (_, r) => r);
  const zero = `vec4<f32>(${f32Literal(0)})`;
  const before: string[] = [];
  const after: string[] = [];
  if (parts.declared.compensated) before.push(...rows.map((r) => `${indent}var nf_comp${r} = ${zero};`));
  if (parts.declared.promoteEvery !== null) {
    before.push(...rows.map((r) => `${indent}var nf_total${r} = ${zero};`), `${indent}var nf_since = 0;`);
    after.push(...rows.map((r) => `${indent}nf_acc${r} = nf_total${r} + nf_acc${r};`));
  }
  return { before, after };
}

/** The WGSL source of the tiled GEMM. */
export function renderGemmShader(parts: GemmShaderParts): string {
  const type = parts.accumulation;
  const zero = type === "f32" ? f32Literal(0) : "0i";
  const u = (name: string) => `nf_scalars.${wgslName(name)}`;
  const tables = parts.tableWords > 0;
  const accumulators = Array.from({ length: R }, (_, r) => r);
  return [
    `// numforge kernel ${wgslName(parts.name).slice(2)}: C = α·op(A)·op(B) + β·C, one ${T}×${T} workgroup per ${GEMM_TILE_SIZE}×${GEMM_TILE_SIZE} tile of C (${R}×${R} per invocation), depth in steps of ${D} through workgroup memory, operands decoded on load, ${type} accumulation`,
    ...parts.declarations,
    ...(tables ? [`var<workgroup> ${TABLES}: array<u32, ${parts.tableWords}>;`] : []),
    `// Operand tiles: [step][group] holds lanes ${R}·group…${R}·group+${R - 1} (rows of op(A), columns of op(B)) at depth k0 + step.`,
    `var<workgroup> nf_tile_a: array<vec4<${type}>, ${D * T}>;`,
    `var<workgroup> nf_tile_b: array<vec4<${type}>, ${D * T}>;`,
    "",
    parts.functions,
    "",
    `@compute @workgroup_size(${T}, ${T})`,
    "fn main(@builtin(local_invocation_id) nf_local: vec3u, @builtin(local_invocation_index) nf_local_index: u32, @builtin(workgroup_id) nf_group: vec3u, @builtin(num_workgroups) nf_groups: vec3u) {",
    `  ${OPAQUE_ZERO_LET}`,
    ...(tables
      ? [
          `  for (var nf_t = nf_local_index; nf_t < ${parts.tableWords}u; nf_t += ${T * T}u) { ${TABLES}[nf_t] = ${GEMM_TABLE_BINDING}[nf_t]; }`,
          "  workgroupBarrier();",
        ]
      : []),
    `  let nf_m = ${u("m")};`,
    `  let nf_n = ${u("n")};`,
    `  let nf_k = ${u("k")};`,
    `  let nf_trans_a = ${u("transA")} != 0;`,
    `  let nf_trans_b = ${u("transB")} != 0;`,
    "  // op(A)(i, p) = A[i·k + p], transposed A[p·m + i]; op(B)(p, j) = B[p·n + j], transposed B[j·k + p] (lower/gemm/gemm.ts).",
    "  let nf_a_lane = select(nf_k, 1, nf_trans_a);",
    "  let nf_a_depth = select(1, nf_m, nf_trans_a);",
    "  let nf_b_lane = select(1, nf_k, nf_trans_b);",
    "  let nf_b_depth = select(nf_n, 1, nf_trans_b);",
    "  // The vec4 of each tile this invocation loads: neighbouring invocations take neighbouring depth steps where the",
    "  // operand is contiguous along the depth (A as stored, B transposed), else neighbouring lane groups.",
    "  let nf_l = i32(nf_local_index);",
    `  let nf_a_step = select(nf_l / ${T}, nf_l % ${T}, !nf_trans_a);`,
    `  let nf_a_group = select(nf_l % ${T}, nf_l / ${T}, !nf_trans_a);`,
    `  let nf_b_step = select(nf_l / ${T}, nf_l % ${T}, nf_trans_b);`,
    `  let nf_b_group = select(nf_l % ${T}, nf_l / ${T}, nf_trans_b);`,
    "  let nf_tx = i32(nf_local.x);",
    "  let nf_ty = i32(nf_local.y);",
    "  // α = 0 or k ≤ 0: A and B are not read, C ← β·C (uniform: the barriers below stay in uniform control flow).",
    `  let nf_skip = ${u("alpha")} == ${f32Literal(0)} || nf_k <= 0;`,
    `  let nf_tiles_x = (nf_n + ${GEMM_TILE_SIZE - 1}) / ${GEMM_TILE_SIZE};`,
    `  let nf_tiles_y = (nf_m + ${GEMM_TILE_SIZE - 1}) / ${GEMM_TILE_SIZE};`,
    "  for (var nf_tile_y = i32(nf_group.y); nf_tile_y < nf_tiles_y; nf_tile_y += i32(nf_groups.y)) {",
    "    for (var nf_tile_x = i32(nf_group.x); nf_tile_x < nf_tiles_x; nf_tile_x += i32(nf_groups.x)) {",
    `      let nf_row0 = nf_tile_y * ${GEMM_TILE_SIZE};`,
    `      let nf_col0 = nf_tile_x * ${GEMM_TILE_SIZE};`,
    ...accumulators.map((r) => `      var nf_acc${r} = vec4<${type}>(${zero});`),
    ...declaredState(parts, "      ").before,
    "      if (!nf_skip) {",
    `        for (var nf_k0 = 0; nf_k0 < nf_k; nf_k0 += ${D}) {`,
    ...loadTile("a", "          ", zero, type),
    ...loadTile("b", "          ", zero, type),
    "          workgroupBarrier();",
    `          for (var nf_s = 0; nf_s < ${D}; nf_s++) {`,
    `            let nf_av = nf_tile_a[nf_s * ${T} + nf_ty];`,
    `            let nf_bv = nf_tile_b[nf_s * ${T} + nf_tx];`,
    ...sumStep(parts, "            "),
    "          }",
    "          workgroupBarrier();",
    "        }",
    ...declaredState(parts, "        ").after,
    "      }",
    ...writeBack("      "),
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");
}
