/**
 * The scaling kinds numforge knows. Adding one is a folder under src/scaling/ exporting a
 * ScalingKind (see kind.ts and the README's "Adding a scaling kind") and one line here; the
 * schema, resolve, semantics, kernels, metadata, CLI and packages find it through this list.
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

const BY_NAME: ReadonlyMap<string, SomeScalingKind> = new Map(SCALING_KINDS.map((k) => [k.kind, k as unknown as SomeScalingKind]));

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

/** The names of the registered kinds, in registry order. */
export const scalingKindNames = (): readonly string[] => SCALING_KINDS.map((k) => k.kind);

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
    allOf: SCALING_KINDS.map((k) => ({ if: { type: "object", properties: { kind: { const: k.kind } }, required: ["kind"] }, then: k.schema })),
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
