/**
 * The scaling kinds numforge knows. Adding one is a folder under src/scaling/ exporting a
 * ScalingKind (see kind.ts and the README's "Adding a scaling kind") and one line here; the
 * schema, resolve, semantics, kernels, metadata, CLI and packages find it through this list.
 * A kind kept outside numforge (a researcher's own folder) joins at run time through
 * registerScalingKind, or for the CLI through NUMFORGE_SCALING_KINDS (cli/main.ts).
 */
import { amaxKind } from "./amax/index.ts";
import { blockKind } from "./block/index.ts";
import type { ScalingKind } from "./kind.ts";
import { noneKind } from "./none/index.ts";
import { shiftGroupsKind } from "./shift-groups/index.ts";
import { shiftSqueezeKind } from "./shift-squeeze/index.ts";

export const SCALING_KINDS = [noneKind, amaxKind, blockKind, shiftSqueezeKind, shiftGroupsKind] as const;

type AnyKind = (typeof SCALING_KINDS)[number];
type ScalingOf<K> = K extends ScalingKind<infer S, infer _M> ? S : never;
type MetaOf<K> = K extends ScalingKind<infer _S, infer M> ? M : never;

/** The resolved `scaling` of a format: one of the registered kinds' resolved forms. */
export type ResolvedScaling = ScalingOf<AnyKind>;
/** The metadata quantize returns beside the codes: one of the registered kinds' metadata. */
export type ScaleMeta = MetaOf<AnyKind>;

/** A kind seen through its interface, for any of its scalings (the one place that erases the pairing). */
export type SomeScalingKind = ScalingKind<ResolvedScaling, ScaleMeta>;

// The one piece of process-wide state: kinds registered at run time join the built-ins, like
// modules joining Node's module cache. `generation` tells compiled schemas they are out of date.
const BY_NAME = new Map<string, SomeScalingKind>(SCALING_KINDS.map((k) => [k.kind, k as unknown as SomeScalingKind]));
let generation = 0;

/**
 * Adds a scaling kind from outside numforge (its own folder, exporting a ScalingKind). Its name must
 * be new and a lower-case identifier; specs may then say `"scaling": {"kind": NAME, …}`.
 */
export function registerScalingKind<S extends { readonly kind: string }, M extends { readonly kind: S["kind"] }>(kind: ScalingKind<S, M>): void {
  if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(kind.kind)) throw new Error(`a scaling kind's name must be a lower-case identifier (got ${JSON.stringify(kind.kind)})`);
  const existing = BY_NAME.get(kind.kind);
  if (existing === (kind as unknown as SomeScalingKind)) return;
  if (existing !== undefined) throw new Error(`a scaling kind named "${kind.kind}" is already registered`);
  BY_NAME.set(kind.kind, kind as unknown as SomeScalingKind);
  generation++;
}

/** Changes whenever a kind is registered: compiled schemas are rebuilt when it moves. */
export const scalingGeneration = (): number => generation;

/** The kind named `kind`, or undefined. */
export function scalingKindNamed(kind: string): SomeScalingKind | undefined {
  return BY_NAME.get(kind);
}

/** The kind of a resolved scaling. */
export function scalingKindOf(scaling: { readonly kind: string }): SomeScalingKind {
  const kind = BY_NAME.get(scaling.kind);
  if (kind === undefined) throw new Error(`unknown scaling kind ${scaling.kind}`);
  return kind;
}

/** The names of the registered kinds: the built-ins in registry order, then those added at run time. */
export const scalingKindNames = (): readonly string[] => [...BY_NAME.keys()];

/**
 * The `scaling` property of the format schema: `kind` names a registered kind, and each kind's
 * own schema applies when `kind` is its name (if/then: standard draft 2020-12, no discriminator).
 */
export function scalingSchema(): object {
  return {
    type: "object",
    required: ["kind"],
    description: "How a tensor is scaled before its elements are encoded; `kind` picks the kind, whose fields follow.",
    properties: { kind: { enum: scalingKindNames() } },
    allOf: [...BY_NAME.values()].map((k) => ({ if: { type: "object", properties: { kind: { const: k.kind } }, required: ["kind"] }, then: k.schema })),
  };
}

/** A spec whose scaling has a shape numforge used before, with the message naming the new one; null otherwise. */
export function retiredScalingShape(spec: unknown): { pointer: string; message: string } | null {
  if (spec === null || typeof spec !== "object") return null;
  const scaling = (spec as { scaling?: unknown }).scaling;
  if (scaling === null || typeof scaling !== "object" || Array.isArray(scaling)) return null;
  const kind = scalingKindNamed(String((scaling as { kind?: unknown }).kind));
  return kind?.retiredShape?.(scaling as Record<string, unknown>) ?? null;
}
