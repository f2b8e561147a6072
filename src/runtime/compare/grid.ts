/**
 * The grid of a comparison: every (model, recipe, seed) run in a fixed order, and the deterministic
 * slices of it (`--shard I/N`) that other processes, machines or Slurm array tasks train.
 */
import type { ResolvedRecipe } from "../../recipes/types.ts";
import type { RunId } from "./run.ts";
import type { ModelSettings } from "./settings.ts";

/** One run of the grid and its 0-based position in it. */
export interface GridRun {
  readonly model: ModelSettings;
  readonly recipe: ResolvedRecipe;
  readonly seed: number;
  readonly index: number;
  readonly id: RunId;
}

/** Slice `index` (1-based) of `count`: the runs whose grid index i has i mod count = index − 1. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** Models outermost, then recipes, then seeds: the order runs train in and reports list them. */
export function comparisonGrid(models: readonly ModelSettings[], recipes: readonly ResolvedRecipe[], seeds: readonly number[]): GridRun[] {
  return models
    .flatMap((model) => recipes.flatMap((recipe) => seeds.map((seed) => ({ model, recipe, seed }))))
    .map((r, index) => ({ ...r, index, id: { model: r.model.model, recipe: r.recipe.name, seed: r.seed } }));
}

/**
 * Whether a run belongs to a shard. Round-robin rather than contiguous slices: with several models
 * or recipes of unequal cost, every shard gets a share of each.
 */
export function inShard(run: GridRun, shard: Shard | undefined): boolean {
  return shard === undefined || run.index % shard.count === shard.index - 1;
}

/** `--shard I/N` → a Shard, or the reason it is not one. */
export function parseShard(text: string): Shard | string {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (m === null) return `--shard must be I/N with 1 ≤ I ≤ N, e.g. 2/3 (got "${text}")`;
  const [index, count] = [Number(m[1]), Number(m[2])];
  if (!(count >= 1 && count <= 1_000_000 && index >= 1 && index <= count)) return `--shard must be I/N with 1 ≤ I ≤ N ≤ 1000000 (got "${text}")`;
  return { index, count };
}
