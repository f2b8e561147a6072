/** What the trainer needs from a model. */
import type { Ctx } from "../context.ts";
import type { Tensor } from "../tensor.ts";

/** A network with named parameters and a forward pass under a context. */
export interface Model {
  readonly name: string;
  /** Every trainable tensor, in a stable order, each with a unique name. */
  parameters(): Tensor[];
  /** Input batch → logits [N, classes]; batch norm follows `ctx.training`. */
  forward(ctx: Ctx, x: Tensor): Tensor;
}
