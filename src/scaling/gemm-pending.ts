/** Why the GEMM lowering cannot read a scaled operand yet (the caller dequantizes it to f32 first). */
export const pending = (what: string): string =>
  `tensor scaling (${what}) is not yet supported by the GEMM lowering; dequantize the operand to f32 first`;
