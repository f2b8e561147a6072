/**
 * Where recipes come from: the shipped recipes in `recipes/` (every `*.json` but the schema), recipe
 * files given by path, and bare formats — a built-in name or a format spec file ("that format for
 * every role, fp32 master and accumulation"). A shipped recipe wins over a format of the same name.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import * as Effect from "effect/Effect";
import { SpecError } from "../dsl/errors.ts";
import { parseJson, parseJsonText } from "../dsl/json-text.ts";
import { readUserTextFile } from "../dsl/user-text.ts";
import { closeMatches, type Registry } from "../dsl/registry.ts";
import type { ResolvedFormat } from "../dsl/resolved.ts";
import { compileSchema, schemaError } from "../dsl/validate.ts";
import type { HadamardRotation } from "../scaling/rotation/hadamard.ts";
import { UnknownRecipeError } from "./errors.ts";
import { resolveRef, type RefContext } from "./formats.ts";
import { accumulatorFormatProblem, type Accumulator } from "../dsl/semantics/accumulate.ts";
import { GEMM_OPERANDS, RECIPE_ROLES, type AccumulatorSpec, type FormatRef, type GemmName, type LossScaling, type LossScalingSpec, type RecipeSpec, type ResolvedRecipe } from "./types.ts";

/** The folder of shipped recipes (and of recipe.schema.json). */
export const RECIPES_DIR = fileURLToPath(new URL("../../recipes/", import.meta.url));
const SCHEMA_FILE = "recipe.schema.json";

const validateRecipeJson = compileSchema<RecipeSpec>(JSON.parse(readFileSync(join(RECIPES_DIR, SCHEMA_FILE), "utf8")) as object);

/** Names of the shipped recipes, sorted. */
export function recipeNames(dir: string = RECIPES_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json") && f !== SCHEMA_FILE)
    .map((f) => f.slice(0, -".json".length))
    .sort();
}

/** Validates parsed JSON against the recipe schema; the error names the file and the JSON pointer. */
export function validateRecipe(json: unknown, file: string): Effect.Effect<RecipeSpec, SpecError> {
  return validateRecipeJson(json) ? Effect.succeed(json) : Effect.fail(schemaError(validateRecipeJson.errors ?? [], file));
}

/** Resolves recipe names and paths; `formats` resolves the formats they refer to. */
export function createRecipeRegistry(formats: Registry, dir: string = RECIPES_DIR) {
  const get = (nameOrPath: string): Effect.Effect<ResolvedRecipe, SpecError | UnknownRecipeError> => {
    if (isPath(nameOrPath)) {
      // A path that is no readable file (missing, a symlink loop, a folder, too big) is reported by the recipe loader.
      return isFormatSpecFile(nameOrPath) ? bareFormatRecipe(nameOrPath, formats) : loadRecipeFile(nameOrPath, formats);
    }
    const recipes = recipeNames(dir);
    if (recipes.includes(nameOrPath)) return loadRecipeFile(join(dir, `${nameOrPath}.json`), formats, nameOrPath);
    const formatNames = formats.names();
    if (formatNames.includes(nameOrPath)) return bareFormatRecipe(nameOrPath, formats);
    return Effect.fail(new UnknownRecipeError({ name: nameOrPath, suggestions: closeMatches(nameOrPath, [...new Set([...recipes, ...formatNames])]), recipes }));
  };
  return { get, names: () => recipeNames(dir) };
}

export type RecipeRegistry = ReturnType<typeof createRecipeRegistry>;

/** A --formats entry that names a file rather than a shipped recipe or a built-in format. */
const isPath = (nameOrPath: string) => nameOrPath.endsWith(".json") || nameOrPath.includes("/");

/**
 * A file that holds a format spec rather than a recipe: a JSON object with an `element` and no
 * `roles`. Anything else (unreadable, not JSON) goes to the recipe loader, which says what is wrong.
 */
function isFormatSpecFile(path: string): boolean {
  const read = Effect.runSync(Effect.result(readUserTextFile(path, "recipe files")));
  if (read._tag === "Failure") return false;
  const parsed = parseJson(read.success);
  const json = parsed.ok ? parsed.document.value : null;
  return json !== null && typeof json === "object" && "element" in json && !("roles" in json);
}

/** "FORMAT for every role, fp32 master weights and accumulation, no loss scaling"; FORMAT is a built-in name or a spec file, and names the recipe. */
export function bareFormatRecipe(nameOrPath: string, formats: Registry): Effect.Effect<ResolvedRecipe, SpecError> {
  return Effect.gen(function* () {
    const located = (e: { toString(): string }) => new SpecError({ file: `format ${nameOrPath}`, pointer: "", message: e.toString() });
    // A spec file's own errors already name the file, pointer and line.
    const format = yield* formats.get(nameOrPath).pipe(Effect.mapError((e) => (e._tag === "SpecError" && isPath(nameOrPath) ? e : located(e))));
    const master = yield* formats.get("fp32").pipe(Effect.mapError(located));
    const name = format.name;
    return finish({
      name,
      summary: `${name} for every role, fp32 master weights and accumulation`,
      source: `format ${nameOrPath}`,
      roles: { weights: format, activations: format, errors: format, weightGradients: format, optimizerState: format },
      standalone: false,
      master,
      gemms: { forward: {}, inputGradient: {}, weightGradient: {} },
      lossScaling: { kind: "none" },
      highPrecision: [],
      optimizer: { epsilon: null },
      normalization: "standard",
    });
  });
}

function loadRecipeFile(path: string, formats: Registry, expectedName?: string): Effect.Effect<ResolvedRecipe, SpecError> {
  return Effect.gen(function* () {
    const text = yield* readUserTextFile(path, "recipe files");
    const spec = yield* validateRecipe(yield* parseJsonText(text, path), path);
    if (expectedName !== undefined && spec.name !== expectedName)
      return yield* new SpecError({ file: path, pointer: "/name", message: `is "${spec.name}" but the file is ${expectedName}.json; a shipped recipe's name is its file name` });
    const dir = dirname(resolvePath(path));
    const ref = (value: FormatRef, pointer: string, roundingRole: keyof NonNullable<RecipeSpec["rounding"]>) =>
      Effect.gen(function* () {
        const rounding = spec.rounding?.[roundingRole];
        const ctx: RefContext = { file: path, dir, pointer, registry: formats, ...(rounding !== undefined ? { rounding: { value: rounding, pointer: `/rounding/${roundingRole}` } } : {}) };
        return yield* resolveRef(value, ctx);
      });

    // "fp32" is the kernels' own accumulation (nothing declared); a declared accumulator's format must be able to hold partial sums.
    const resolveAccumulator = (value: AccumulatorSpec, pointer: string) =>
      Effect.gen(function* () {
        if (value === "fp32") return null;
        const format = yield* resolveRef(value.format, { file: path, dir, pointer: `${pointer}/format`, registry: formats });
        const problem = accumulatorFormatProblem(format);
        if (problem !== null) return yield* new SpecError({ file: path, pointer: `${pointer}/format`, message: `${format.name} cannot accumulate: it ${problem}` });
        const accumulator: Accumulator = { format, promoteEvery: value.promoteEvery ?? null, compensated: value.compensated ?? false };
        return accumulator;
      });
    const roles = {} as Record<(typeof RECIPE_ROLES)[number], ResolvedFormat>;
    for (const role of RECIPE_ROLES) roles[role] = yield* ref(spec.roles[role], `/roles/${role}`, role);
    const standalone = spec.master === "none";
    const master = spec.master === "none" ? yield* ref(spec.roles.weights, "/roles/weights", "master") : yield* ref(spec.master, "/master", "master");
    const gemms = { forward: {}, inputGradient: {}, weightGradient: {} } as Record<GemmName, Record<string, ResolvedFormat | HadamardRotation | Accumulator>>;
    for (const gemm of Object.keys(GEMM_OPERANDS) as GemmName[]) {
      const own = spec.gemms?.[gemm]?.accumulator;
      const accumulator = own !== undefined ? yield* resolveAccumulator(own, `/gemms/${gemm}/accumulator`) : spec.accumulation !== undefined ? yield* resolveAccumulator(spec.accumulation, "/accumulation") : null;
      if (accumulator !== null) gemms[gemm].accumulator = accumulator;
      const given = (spec.gemms?.[gemm] ?? {}) as Record<string, FormatRef | undefined>;
      for (const operand of GEMM_OPERANDS[gemm]) {
        const value = given[operand];
        if (value !== undefined) gemms[gemm][operand] = yield* ref(value, `/gemms/${gemm}/${operand}`, operand);
      }
      const rotation = spec.gemms?.[gemm]?.rotation;
      if (rotation !== undefined) gemms[gemm].rotation = rotation;
    }
    return finish({
      name: spec.name,
      summary: spec.summary,
      source: path,
      roles,
      standalone,
      master,
      gemms,
      lossScaling: lossScalingOf(spec.lossScaling),
      highPrecision: spec.highPrecision ?? [],
      optimizer: { epsilon: spec.optimizer?.epsilon ?? null },
      normalization: spec.normalization ?? "standard",
    });
  });
}

function lossScalingOf(spec: LossScalingSpec | undefined): LossScaling {
  if (spec === undefined || spec.kind === "none") return { kind: "none" };
  if (spec.kind === "static") return spec;
  return {
    kind: "dynamic",
    initial: spec.initial ?? 65536,
    growthFactor: spec.growthFactor ?? 2,
    backoffFactor: spec.backoffFactor ?? 0.5,
    growthInterval: spec.growthInterval ?? 1000,
  };
}

function finish(recipe: Omit<ResolvedRecipe, "fingerprint">): ResolvedRecipe {
  const { name: _name, summary: _summary, source: _source, normalization, ...rest } = recipe;
  // The default normalization is left out, so recipes from before the field keep their fingerprints (and finished runs).
  const training = normalization === "standard" ? rest : { ...rest, normalization };
  const fingerprint = createHash("sha256").update(JSON.stringify(training)).digest("hex").slice(0, 16);
  return Object.freeze({ ...recipe, fingerprint });
}
