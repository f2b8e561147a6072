/**
 * NumericsRecorder: a Precision that wraps a run's RecipePrecision and, on every N-th training
 * step, records what quantization did at each GEMM operand site (layer × role × GEMM pass): the
 * input is copied before the recipe quantizes it in place, and the copy and the result are
 * measured (measure.ts) and the format's scales found on another copy (scales.ts). Statistics never
 * change a training value: the recipe's quantize sees exactly the calls it would see without the
 * recorder, the scales come from a copy of the tensor and of the scaling state, and nothing draws
 * a random number. On a sampled step the recorder also asks for the operands the recipe leaves in
 * full precision (fp32 runs, high-precision layers), quantizing nothing there, so every format has
 * fp32's distribution beside it.
 *
 * A sampled step's records are kept only when the training loop reports the step done (stepDone):
 * the evaluation after an epoch sets the same step counter as the next training step and is not
 * training, so what it quantizes is dropped.
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import type { RecipePrecision } from "../../recipes/precision.ts";
import type { KernelSource } from "../backends/kernel-source.ts";
import type { ChannelLayout, GemmPass, TensorRole } from "../precision.ts";
import type { SessionPrecision } from "../session.ts";
import type { FloatArray } from "../tensor.ts";
import { clipRule, formatRange, measure } from "./measure.ts";
import { scalesOf } from "./scales.ts";
import type { RunNumerics, SiteNumerics, SiteSample } from "./types.ts";

/** Samples per run when the sampling interval is not given. */
export const DEFAULT_SAMPLES_PER_RUN = 10;

/** The interval that gives about DEFAULT_SAMPLES_PER_RUN samples over `totalSteps`. */
export function defaultInterval(totalSteps: number): number {
  return Math.max(1, Math.ceil(totalSteps / DEFAULT_SAMPLES_PER_RUN));
}

/** The roles of GEMM operands (the sites the recorder measures). */
const OPERAND_ROLES: ReadonlySet<TensorRole> = new Set(["weight", "activation", "error"]);

interface Site {
  readonly site: string;
  readonly role: TensorRole;
  readonly pass: GemmPass;
  readonly format: ResolvedFormat | null;
  readonly samples: SiteSample[];
}

/** A RecipePrecision that records numerics every `every` steps (0: never). */
export class NumericsRecorder implements SessionPrecision {
  readonly name: string;
  private step = 0;
  private armed = false;
  private readonly pending = new Map<string, { site: Site; sample: SiteSample }>();
  private readonly sites = new Map<string, Site>();
  private readonly steps: number[] = [];

  /** `schedule`: the run's learning rate by 0-based step (a pure function, so resumed runs give the whole curve). */
  constructor(private readonly inner: RecipePrecision, private readonly kernels: KernelSource, readonly every: number, private readonly schedule: (step: number) => number) {
    this.name = inner.name;
  }

  setStep(step: number): void {
    this.inner.setStep(step);
    this.step = step;
    this.pending.clear();
    this.armed = this.every > 0 && step % this.every === 0;
  }

  active(role: TensorRole, site: string, pass?: GemmPass): boolean {
    return this.inner.active(role, site, pass) || this.wants(role, site, pass);
  }

  differs(role: TensorRole, site: string, a: GemmPass, b: GemmPass, layoutA?: ChannelLayout, layoutB?: ChannelLayout): boolean {
    return this.inner.differs(role, site, a, b, layoutA, layoutB);
  }

  quantizesAlongK(role: TensorRole, site: string, pass: GemmPass): boolean {
    return this.inner.quantizesAlongK(role, site, pass);
  }

  rotates(site: string, pass: GemmPass): boolean {
    return this.inner.rotates(site, pass);
  }

  quantizesColumnsInPlace(role: TensorRole, site: string, pass: GemmPass): boolean {
    return this.inner.quantizesColumnsInPlace(role, site, pass);
  }

  quantize(role: TensorRole, t: FloatArray, site: string, pass?: GemmPass, layout?: ChannelLayout): void {
    if (!this.wants(role, site, pass)) {
      this.inner.quantize(role, t, site, pass, layout);
      return;
    }
    const key = keyOf(role, site, pass!);
    const format = this.inner.formatOf(role, site, pass);
    const before = t.slice();
    const state = format === null ? undefined : copyState(this.inner.state()[key]);
    this.inner.quantize(role, t, site, pass, layout);
    const measured = measure(this.step, before, t, clipRule(format));
    const scales = format === null ? undefined : scalesOf(format, this.kernels, before instanceof Float32Array ? before : Float32Array.from(before), layout, state);
    const known = this.sites.get(key) ?? { site, role, pass: pass!, format, samples: [] };
    this.pending.set(key, { site: known, sample: scales === undefined ? measured : { ...measured, scales } });
  }

  /** The training loop finished a step (`step` steps are done now): keep its records. */
  stepDone(step: number): void {
    if (this.armed && step === this.step + 1) {
      for (const [key, { site, sample }] of this.pending) {
        site.samples.push(sample);
        this.sites.set(key, site);
      }
      this.steps.push(this.step);
    }
    this.pending.clear();
    this.armed = false;
  }

  state() {
    return this.inner.state();
  }

  restore(state: Parameters<RecipePrecision["restore"]>[0]): void {
    this.inner.restore(state);
  }

  /** What was recorded, as results.json holds it, for a run that has done `completedSteps` steps. */
  numerics(completedSteps: number): RunNumerics {
    const sites: SiteNumerics[] = [...this.sites.values()].map((s) => ({
      site: s.site, role: s.role, pass: s.pass, format: s.format?.name ?? null, range: s.format === null ? null : formatRange(s.format), samples: [...s.samples],
    }));
    const learningRate = Array.from({ length: completedSteps }, (_, step) => Number(this.schedule(step).toPrecision(6)));
    return { every: this.every, steps: [...this.steps], learningRate, sites };
  }

  /** Continues a run from a checkpoint: what was recorded before it. */
  resume(saved: RunNumerics): void {
    if (!Array.isArray(saved.steps) || !Array.isArray(saved.sites)) return;
    this.steps.splice(0, this.steps.length, ...saved.steps);
    this.sites.clear();
    for (const s of saved.sites) {
      const format = s.format === null ? null : this.inner.formatOf(s.role, s.site, s.pass ?? undefined);
      this.sites.set(keyOf(s.role, s.site, s.pass ?? "forward"), { site: s.site, role: s.role, pass: s.pass ?? "forward", format, samples: [...s.samples] });
    }
  }

  /** Records this call: a sampled step, a GEMM operand, not yet seen on this step. */
  private wants(role: TensorRole, site: string, pass: GemmPass | undefined): boolean {
    return this.armed && pass !== undefined && OPERAND_ROLES.has(role) && !this.pending.has(keyOf(role, site, pass));
  }
}

function keyOf(role: TensorRole, site: string, pass: GemmPass): string {
  return `${role}@${site}#${pass}`;
}

function copyState<T extends { slice(): T }>(state: Readonly<Record<string, T>> | undefined): Record<string, T> | undefined {
  return state === undefined ? undefined : Object.fromEntries(Object.entries(state).map(([name, b]) => [name, b.slice()]));
}
