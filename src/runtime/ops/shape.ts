/** Reshape and flatten: new shape over the same data (no copy); gradients flow back unchanged. */
import { recording, type Ctx } from "../context.ts";
import { gradOf, numel, Tensor } from "../tensor.ts";

/** x viewed with `shape`; one dimension may be -1 (inferred). The result shares x's data. */
export function reshape(ctx: Ctx, x: Tensor, shape: readonly number[]): Tensor {
  const resolved = resolveShape(x, shape);
  const rec = recording(ctx, x);
  const out = new Tensor(resolved, x.data, rec);
  if (!rec) return out;
  ctx.tape!.record(() => {
    const g = out.grad;
    if (g === null) return;
    const d = gradOf(x);
    for (let i = 0; i < d.length; i++) d[i] += g[i];
  });
  return out;
}

/** [N, ...] → [N, rest]. */
export function flatten(ctx: Ctx, x: Tensor): Tensor {
  if (x.shape.length < 1) throw new RangeError("flatten: a scalar has no batch axis");
  return reshape(ctx, x, [x.shape[0], -1]);
}

function resolveShape(x: Tensor, shape: readonly number[]): number[] {
  const free = shape.filter((d) => d === -1).length;
  if (free > 1) throw new RangeError(`reshape: at most one -1 in [${shape.join(", ")}]`);
  const known = numel(shape.filter((d) => d !== -1));
  const out = shape.map((d) => (d === -1 ? (known === 0 ? 0 : x.size / known) : d));
  if (!out.every(Number.isInteger) || numel(out) !== x.size) {
    throw new RangeError(`reshape: [${x.shape.join(", ")}] (${x.size} elements) cannot be viewed as [${shape.join(", ")}]`);
  }
  return out;
}
