/**
 * Format references of a recipe → ResolvedFormats. A reference is a built-in name, a spec path
 * (relative to the recipe file) or an inline override ({"format": "e4m3", "scaling": {...}});
 * an override (and a role's rounding override) is merged into the base spec, which is then
 * validated and resolved exactly like a spec file. Errors name the recipe file and the JSON
 * pointer of the reference (or of the overriding field).
 */
import { readFileSync } from "node:fs";
import { join, resolve as resolvePath } from "node:path";
import * as Effect from "effect/Effect";
import { SpecError, type UnknownFormatError } from "../dsl/errors.ts";
import { parseJsonText } from "../dsl/json-text.ts";
import { BUILTIN_FORMATS_DIR, type Registry } from "../dsl/registry.ts";
import { resolveFormat } from "../dsl/resolve.ts";
import type { ResolvedFormat } from "../dsl/resolved.ts";
import { validateSpec } from "../dsl/validate.ts";
import type { FormatRef, RoundingSpecJson } from "./types.ts";

/** Where a reference sits and what applies to it. */
export interface RefContext {
  /** The recipe file, for messages. */
  readonly file: string;
  /** The folder relative paths start from (the recipe's own folder). */
  readonly dir: string;
  /** JSON pointer of the reference in the recipe. */
  readonly pointer: string;
  readonly registry: Registry;
  /** A role's rounding override and its pointer. */
  readonly rounding?: { readonly value: RoundingSpecJson; readonly pointer: string };
}

const isPath = (ref: string) => ref.endsWith(".json") || ref.includes("/");

/** The resolved format of a reference. */
export function resolveRef(ref: FormatRef, ctx: RefContext): Effect.Effect<ResolvedFormat, SpecError> {
  const base = typeof ref === "string" ? ref : ref.format;
  const basePointer = typeof ref === "string" ? ctx.pointer : `${ctx.pointer}/format`;
  const override: Exclude<FormatRef, string> | Partial<Exclude<FormatRef, string>> = typeof ref === "string" ? {} : ref;
  return Effect.gen(function* () {
    const baseFile = isPath(base) ? resolvePath(ctx.dir, base) : join(BUILTIN_FORMATS_DIR, `${base}.json`);
    const baseFormat = yield* ctx.registry.get(isPath(base) ? baseFile : base).pipe(Effect.mapError((e) => located(e, ctx.file, basePointer)));
    const rounding = override.rounding ?? ctx.rounding?.value;
    if (rounding === undefined && override.overflow === undefined && override.scaling === undefined && override.name === undefined) return baseFormat;

    const text = yield* Effect.try({
      try: () => readFileSync(baseFile, "utf8"),
      catch: (e) => new SpecError({ file: ctx.file, pointer: basePointer, message: `cannot read ${baseFile}: ${(e as Error).message}` }),
    });
    const json = (yield* parseJsonText(text, baseFile)) as Record<string, unknown>;
    const suffix = [override.scaling !== undefined ? String(override.scaling.kind ?? "scaled") : null, typeof rounding === "object" ? "sr" : null].filter((s) => s !== null).join("-");
    const merged: Record<string, unknown> = {
      ...json,
      name: override.name ?? `${baseFormat.name}${suffix === "" ? "" : `-${suffix}`}`.slice(0, 64),
      ...(rounding !== undefined ? { rounding } : {}),
      ...(override.overflow !== undefined ? { overflow: override.overflow } : {}),
      ...(override.scaling !== undefined ? { scaling: override.scaling } : {}),
    };
    const where = (e: SpecError) => new SpecError({ file: ctx.file, pointer: mapPointer(e.pointer, ref, ctx), message: e.message });
    const spec = yield* validateSpec(merged, ctx.file).pipe(Effect.mapError(where));
    return yield* resolveFormat(spec, ctx.file, (name) => ctx.registry.get(name)).pipe(Effect.mapError(where));
  });
}

/** A pointer into the merged spec → the recipe field that put it there. */
function mapPointer(pointer: string, ref: FormatRef, ctx: RefContext): string {
  const field = pointer.split("/")[1] ?? "";
  const inline = typeof ref === "object" && field in ref;
  if (inline) return `${ctx.pointer}${pointer}`;
  if (field === "rounding" && ctx.rounding !== undefined) return `${ctx.rounding.pointer}${pointer.slice("/rounding".length)}`;
  return typeof ref === "string" ? ctx.pointer : `${ctx.pointer}/format`;
}

/** A registry error as an error of the recipe, at the reference. */
function located(e: SpecError | UnknownFormatError, file: string, pointer: string): SpecError {
  if (e._tag === "SpecError") return e.file === file ? e : new SpecError({ file: e.file, pointer: e.pointer, message: `${e.message} (used by ${file} at ${pointer})` });
  return new SpecError({ file, pointer, message: e.toString() });
}
