/** Calls into the semantics that report bad input by throwing InputError. */
import * as Effect from "effect/Effect";
import { InputError } from "../dsl/errors.ts";

/**
 * Runs a semantics call that reports bad input by throwing InputError (tensor layouts): that
 * becomes a typed failure, anything else stays a defect.
 */
export function attempt<A>(f: () => A): Effect.Effect<A, InputError> {
  return Effect.suspend(() => {
    try {
      return Effect.succeed(f());
    } catch (e) {
      if (e instanceof InputError) return Effect.fail(e);
      throw e;
    }
  });
}
