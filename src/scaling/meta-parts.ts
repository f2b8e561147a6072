/** Pieces every scaling kind's metadata codec uses: buffer declarations, raw buffers, JSON fields. */
import * as Effect from "effect/Effect";
import { InputError } from "../dsl/errors.ts";
import type { StorageType } from "../codegen/ir/nodes.ts";
import type { BufferDecl, Size } from "../codegen/plan.ts";
import type { RawBuffers } from "./kind.ts";

/** A plan buffer declaration. */
export const bufferDecl = (name: string, storage: StorageType, length: Size, role: BufferDecl["role"]): BufferDecl => ({ name, storage, length, role });

/** A meta or state buffer a plan returned; a missing one is a bug in the plan, not user input. */
export function rawBuffer(buffers: RawBuffers, name: string): ArrayLike<number> {
  const b = buffers[name];
  if (b === undefined) throw new Error(`missing meta/state buffer ${name}`);
  return b;
}

/** Metadata read from stdin that does not fit the format. */
export const metaFail = (message: string) => Effect.fail(new InputError({ where: "stdin", message }));

/** A field of JSON metadata, or a message naming the fields the kind's metadata has. */
export function field(meta: Readonly<Record<string, unknown>>, kind: string, fields: readonly string[], name: string): Effect.Effect<unknown, InputError> {
  return name in meta ? Effect.succeed(meta[name]) : metaFail(`meta.${name}: missing (${kind} metadata has ${fields.join(", ")})`);
}
