/** Typed errors of recipe lookup (file errors are the format pipeline's SpecError: file + JSON pointer). */
import * as Data from "effect/Data";

/** A name that is neither a shipped recipe, nor a built-in format, nor a recipe file. */
export class UnknownRecipeError extends Data.TaggedError("UnknownRecipeError")<{
  readonly name: string;
  readonly suggestions: readonly string[];
  readonly recipes: readonly string[];
}> {
  override toString(): string {
    const hint = this.suggestions.length > 0 ? `; did you mean ${this.suggestions.join(", ")}?` : "";
    return `unknown recipe or format "${this.name}"${hint} (recipes: ${this.recipes.join(", ")}; or any format of \`numforge formats\`, or a path to a recipe file)`;
  }
}
