/**
 * RecipePrecision: the runtime's Precision for a resolved recipe. Each (role, site, GEMM) is bound
 * to a format once; quantizing runs that format's fakeQuantize plan on the kernels of the chosen
 * backend (compiled once per format by its KernelSource) through the source's plan runner, writing
 * the values over the tensor itself (on wasm every buffer of the plan stays in the module's heap,
 * so a call copies the tensor in once and the values out once). Delayed-amax history is kept per
 * (role, site, GEMM); stochastic rounding draws its u32 seed from (run seed, step, site).
 *
 * Per-channel formats (channel amax, ShiftQuant groups) scale each channel of the operand's
 * ChannelLayout: a leading-axis layout is passed to the plan as its `channels`; any other is
 * quantized on a channel-major copy (gatherChannels) whose values are scattered back — fake
 * quantization only needs the values, so no GEMM ever sees the copy's order. A column layout of a
 * 1-D block format needs no copy: its blocks are those down the matrix's columns (block axis 0);
 * nor does a format with a plan for channels as columns (fakeQuantizeColumns: per-channel formats,
 * and stochastically rounded 1-D blocks, whose draws that plan keys by the lane-major index).
 * Without a layout
 * (optimizer state, master weights, weight gradients) the tensor is one channel. Formats scaled
 * per tensor ignore layouts, so their results do not depend on them.
 */
import type { OpPlan } from "../codegen/plan.ts";
import type { ResolvedFormat } from "../dsl/resolved.ts";
import { scalingKindOf } from "../scaling/registry.ts";
import type { BufferArray } from "../package-runtime/run-plan.js";
import type { KernelSource, PlanRunner } from "../runtime/backends/kernel-source.ts";
import { gatherChannels, laneCount, sameChannels, scatterChannels, checkLayout, type ChannelLayout, type GemmPass, type Precision, type TensorRole } from "../runtime/precision.ts";
import { rotationSigns, type HadamardRotation } from "../scaling/rotation/hadamard.ts";
import { lowerRotation, ROTATION_SIGNS, rotatedPlan, rotationKernelName, rotationModule } from "../scaling/rotation/lower.ts";
import { hash32, mix32 } from "../runtime/random.ts";
import { scratchFloat32 } from "../runtime/scratch.ts";
import type { FloatArray } from "../runtime/tensor.ts";
import type { ResolvedRecipe } from "./types.ts";

interface Quantizer {
  readonly format: ResolvedFormat;
  /** Equal keys: the same format, so the same values. */
  readonly key: string;
  readonly plan: OpPlan;
  readonly runPlan: PlanRunner;
  readonly stateful: boolean;
  readonly stochastic: boolean;
  /** The format scales each channel of a layout (else the layout is ignored). */
  readonly byRow: boolean;
  /** Its scale groups run along each lane's K (see ScalingKind.blocksAlongK). */
  readonly blocksAlongK: boolean;
  /**
   * Its scales cover 1-D blocks and its rounding is not stochastic: a column layout's blocks are
   * then the blocks down each column of the rows × cols matrix (the plan's block axis 0), the same
   * elements under the same scale, so the matrix is quantized where it lies. (A stochastic draw is
   * keyed by element index, which the lane-major copy changes: those formats have a columnsPlan
   * instead. 2-D tiles would need transposing.)
   */
  readonly columnBlocksInPlace: boolean;
  /** Its plan for a tensor whose channels are its columns (FormatPlans.fakeQuantizeColumns), or null: such layouts then go through a lane-major copy. */
  readonly columnsPlan: OpPlan | null;
}

/** The saved per-site scaling state, for checkpoints: state key → buffer name → buffer. */
export type PrecisionState = Readonly<Record<string, Readonly<Record<string, BufferArray>>>>;

/** True for a format that maps every float32 to itself (fp32 with nearest rounding, no scaling). */
export function isFloat32Identity(format: ResolvedFormat): boolean {
  const el = format.element;
  return (
    el.kind === "float" && el.signed && el.exponentBits === 8 && el.mantissaBits === 23 && el.bias === 127 && el.infinity &&
    el.nan === "ieee" && el.negativeZero && el.subnormals && format.scaling.kind === "none" && format.rounding.mode !== "stochastic"
  );
}

/** Whether a tensor's row layout matters to the format (scales per channel, blocks and tiles on rows): a GEMM operand is then quantized as lanes × its reduction axis. */
export function quantizesByRow(format: ResolvedFormat): boolean {
  return scalingKindOf(format.scaling).byRow(format.scaling);
}

/** A site pattern (`*` = any characters) → a test that also accepts every site below a match. */
export function sitePattern(pattern: string): (site: string) => boolean {
  const body = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  const re = new RegExp(`^${body}(\\..*)?$`);
  return (site) => re.test(site);
}

function streamOf(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = mix32(h ^ text.charCodeAt(i));
  return h;
}

/** A recipe's precision on one backend's kernels, for one run (seed). */
export class RecipePrecision implements Precision {
  readonly name: string;
  private step = 0;
  private readonly bound = new Map<string, Quantizer | null>();
  private readonly byFormat = new Map<string, Quantizer>();
  private readonly states = new Map<string, Record<string, BufferArray>>();
  private readonly rotatedRuns = new Map<string, { readonly plan: OpPlan; readonly runPlan: PlanRunner }>();
  private readonly highPrecision: ReadonlyArray<(site: string) => boolean>;

  constructor(readonly recipe: ResolvedRecipe, private readonly kernels: KernelSource, private readonly seed: number) {
    this.name = recipe.name;
    this.highPrecision = recipe.highPrecision.map(sitePattern);
  }

  /** The training step stochastic rounding is seeded with. */
  setStep(step: number): void {
    this.step = step;
  }

  active(role: TensorRole, site: string, pass?: GemmPass): boolean {
    return this.quantizer(role, site, pass) !== null || this.rotationOf(role, site, pass) !== null;
  }

  quantizesAlongK(role: TensorRole, site: string, pass: GemmPass): boolean {
    const q = this.quantizer(role, site, pass);
    return (q !== null && q.blocksAlongK) || this.rotationOf(role, site, pass) !== null;
  }

  rotates(site: string, pass: GemmPass): boolean {
    return this.rotationOf("error", site, pass) !== null;
  }

  quantizesColumnsInPlace(role: TensorRole, site: string, pass: GemmPass): boolean {
    const q = this.quantizer(role, site, pass);
    return this.rotationOf(role, site, pass) === null && (q === null || !q.byRow || q.columnBlocksInPlace || q.columnsPlan !== null);
  }

  differs(role: TensorRole, site: string, a: GemmPass, b: GemmPass, layoutA?: ChannelLayout, layoutB?: ChannelLayout): boolean {
    // A rotated operand belongs to its own GEMM: the rotation runs along that GEMM's K.
    if (this.rotationOf(role, site, a) !== null || this.rotationOf(role, site, b) !== null) return true;
    const qa = this.quantizer(role, site, a);
    const qb = this.quantizer(role, site, b);
    if ((qa?.key ?? null) !== (qb?.key ?? null)) return true;
    return qa !== null && qa.byRow && !sameChannels(layoutA, layoutB);
  }

  /**
   * Rotates (when the recipe rotates GEMM `pass` and `layout` marks a GEMM operand), then
   * quantizes. Both need the operand as lanes × K: a layout whose lanes do not lead is handled
   * on a lane-major copy (gatherChannels) whose values are scattered back.
   */
  quantize(role: TensorRole, t: FloatArray, site: string, pass?: GemmPass, layout?: ChannelLayout): void {
    this.quantizeInto(role, t, t, site, pass, layout);
  }

  /**
   * quantize's values of `from` in `into`, `from` only read: the plan reads `from` where its
   * values are written to `into` (no copy of `from` first), else a copy between (a lane-major
   * gather, a rotation, a float32 copy of a float64 tensor) carries them.
   */
  quantizeInto(role: TensorRole, from: FloatArray, into: FloatArray, site: string, pass?: GemmPass, layout?: ChannelLayout): void {
    const q = this.quantizer(role, site, pass);
    const rotation = layout?.unrotated === true ? null : this.rotationOf(role, site, pass);
    if (from !== into && (from.length !== into.length || from.constructor !== into.constructor)) throw new RangeError(`quantizeInto: into must be a ${from.constructor.name} of ${from.length} elements`);
    if (q === null && rotation === null) {
      if (from !== into) into.set(from);
      return;
    }
    const where = `${role} at ${site}`;
    const byLane = layout !== undefined && (rotation !== null || q!.byRow);
    const lanes = byLane ? laneCount(checkLayout(into, layout!, where)) : 1;
    const moved = lanes > 1 && layout!.outer > 1;
    const float32 = from instanceof Float32Array && into instanceof Float32Array;
    const columns = moved && rotation === null && layout!.inner === 1 && (layout!.groups ?? 1) === 1 && float32;
    if (columns && q!.columnBlocksInPlace) {
      // Lanes are the columns of an outer × channels matrix: blocks down them, where the matrix lies.
      this.runQuantizer(q!, role, site, pass, into, { channels: layout!.outer, blockAxis: 0 }, q!, {}, from);
      return;
    }
    if (columns && q!.columnsPlan !== null) {
      // A channel per column, by the format's plan for that layout: the lane-major copy's values, where the matrix lies.
      this.runQuantizer(q!, role, site, pass, into, { channels: lanes }, { plan: q!.columnsPlan, runPlan: q!.runPlan }, {}, from);
      return;
    }
    // x: what the plan reads; out: where its values land (into itself where it is float32 and lane-major).
    let x = moved ? gatherChannels(from, layout!, where, scratchFloat32("precision.channelMajor", from.length)) : from instanceof Float32Array ? from : Float32Array.from(from);
    let out = moved || !(into instanceof Float32Array) ? x : into;
    if (rotation !== null && q !== null && q.byRow) {
      // The rotation as the first step of the format's plan, in the format's module: one copy in, one out.
      this.runQuantizer(q, role, site, pass, out, { channels: lanes }, this.rotatedRun(q, rotation), { [ROTATION_SIGNS]: rotationSigns(rotation) }, x);
    } else {
      if (rotation !== null) out = x = this.rotate(x, lanes, rotation);
      if (q !== null) this.runQuantizer(q, role, site, pass, out, { channels: q.byRow ? lanes : 1 }, q, {}, x);
    }
    if (moved) scatterChannels(out, layout!, into);
    else if (out !== into) into.set(out);
  }

  /**
   * Runs q's fake-quantize plan (or `run`, another plan of q's format) on `x` (default: `values`
   * itself) into `values`, with the site's delayed-scaling state and stochastic seed, and
   * `inputs` bound beside x.
   */
  private runQuantizer(
    q: Quantizer, role: TensorRole, site: string, pass: GemmPass | undefined, values: Float32Array, shape: { channels: number; blockAxis?: 0 | 1 },
    run: { readonly plan: OpPlan; readonly runPlan: PlanRunner } = q, inputs: Readonly<Record<string, BufferArray>> = {}, x: Float32Array = values,
  ): void {
    const stateKey = `${role}@${site}#${pass ?? ""}`;
    const seed = q.stochastic ? hash32(this.seed, streamOf(stateKey), this.step) : 0;
    const previous = q.stateful ? this.states.get(stateKey) : undefined;
    // Values written over x itself where they are one array (the plan runner keeps the kernels' input apart).
    const bindings = { x, values, ...inputs, ...previous };
    const result = run.runPlan(run.plan, bindings, { n: values.length, seed, ...shape });
    if (q.stateful) this.states.set(stateKey, result.state);
  }

  /** q's fakeQuantize after `rotation`, on q's format compiled with the rotation kernel (rotatedPlan). */
  private rotatedRun(q: Quantizer, rotation: HadamardRotation): { readonly plan: OpPlan; readonly runPlan: PlanRunner } {
    const key = `${q.key} rotated ${rotation.size}`;
    let run = this.rotatedRuns.get(key);
    if (run === undefined) {
      const loaded = this.kernels.load(q.format, { key: `hadamard ${rotation.size}`, kernels: () => [lowerRotation(rotation.size)] });
      run = { plan: rotatedPlan(loaded.compiled.plans.fakeQuantize, rotation.size), runPlan: loaded.runPlan };
      this.rotatedRuns.set(key, run);
    }
    return run;
  }

  /**
   * The rotation of `x` (lanes × K, lane-major) by the backend's rotation kernel. Like the lane-major
   * copy, it lives only inside one quantize call (written back before it returns): both are scratch.
   */
  private rotate(x: Float32Array, lanes: number, rotation: HadamardRotation): Float32Array {
    const kernels = this.kernels.loadModule("rotations", rotationModule);
    const y = scratchFloat32("precision.rotated", x.length);
    if (x.length > 0) kernels[rotationKernelName(rotation.size)](x, y, rotationSigns(rotation), lanes, x.length / lanes);
    return y;
  }

  /** The rotation of GEMM `pass` for its operand `role` at `site`, or null (no rotation, not a GEMM operand, or a full-precision site). */
  private rotationOf(role: TensorRole, site: string, pass?: GemmPass): HadamardRotation | null {
    if (pass === undefined || (role !== "weight" && role !== "activation" && role !== "error")) return null;
    if (this.highPrecision.some((match) => match(site))) return null;
    return this.recipe.gemms[pass].rotation ?? null;
  }

  /** The delayed-scaling state of every site (live buffers). */
  state(): PrecisionState {
    return Object.fromEntries(this.states);
  }

  restore(state: PrecisionState): void {
    this.states.clear();
    for (const [key, buffers] of Object.entries(state)) this.states.set(key, { ...buffers });
  }

  /** The format bound to (role, site, pass), or null where the value passes unchanged. */
  formatOf(role: TensorRole, site: string, pass?: GemmPass): ResolvedFormat | null {
    if (this.highPrecision.some((match) => match(site))) return null;
    const { roles, gemms } = this.recipe;
    const format = ((): ResolvedFormat => {
      switch (role) {
        case "weight":
          return pass === "inputGradient" ? gemms.inputGradient.weights ?? roles.weights : gemms.forward.weights ?? roles.weights;
        case "activation":
          return pass === "weightGradient" ? gemms.weightGradient.activations ?? roles.activations : gemms.forward.activations ?? roles.activations;
        case "error":
          return pass === "weightGradient" ? gemms.weightGradient.errors ?? roles.errors : gemms.inputGradient.errors ?? roles.errors;
        case "weightGradient":
          return roles.weightGradients;
        case "optimizerState":
          return roles.optimizerState;
        case "master":
          return this.recipe.master;
      }
    })();
    return isFloat32Identity(format) ? null : format;
  }

  private quantizer(role: TensorRole, site: string, pass?: GemmPass): Quantizer | null {
    const key = `${role}@${site}#${pass ?? ""}`;
    let q = this.bound.get(key);
    if (q === undefined) {
      const format = this.formatOf(role, site, pass);
      q = format === null ? null : this.quantizerOf(format);
      this.bound.set(key, q);
    }
    return q;
  }

  private quantizerOf(format: ResolvedFormat): Quantizer {
    const key = JSON.stringify(format);
    let q = this.byFormat.get(key);
    if (q === undefined) {
      const loaded = this.kernels.load(format);
      const plan = loaded.compiled.plans.fakeQuantize;
      q = {
        format, key, plan, runPlan: loaded.runPlan, stateful: plan.buffers.some((b) => b.role === "state"), stochastic: format.rounding.mode === "stochastic",
        byRow: quantizesByRow(format), blocksAlongK: scalingKindOf(format.scaling).blocksAlongK?.(format.scaling) === true,
        columnBlocksInPlace: format.scaling.kind === "block" && "block" in format.scaling.granularity && format.rounding.mode !== "stochastic",
        columnsPlan: loaded.compiled.plans.fakeQuantizeColumns ?? null,
      };
      this.byFormat.set(key, q);
    }
    return q;
  }
}
