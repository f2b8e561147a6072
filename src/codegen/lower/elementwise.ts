/**
 * Elementwise kernels over the element encoding (no tensor scaling): encode_elements and
 * decode_elements. Scaled formats wrap these steps with their statistics (see scaling kernels).
 */
import type { ResolvedFormat } from "../../dsl/resolved.ts";
import { Builder, i32, kernel, load } from "../ir/build.ts";
import type { Kernel, StorageType } from "../ir/nodes.ts";
import { lowerDecodeElement, lowerEncodeElement } from "./element.ts";
import { lowerCounterRandom, lowerRandomKey } from "./random.ts";

/** The buffer element type that holds the format's codes. */
export function codeStorage(format: ResolvedFormat): StorageType {
  return format.bits <= 8 ? "u8" : format.bits <= 16 ? "u16" : "u32";
}

/** encode_elements(x: f32[], codes, n, seed): codes[i] = encode(x[i]) with draw (seed, i). */
export function lowerEncodeElements(format: ResolvedFormat): Kernel {
  const stochastic = format.rounding.mode === "stochastic";
  return kernel(
    "encode_elements",
    [
      { kind: "buffer", name: "x", storage: "f32", access: "read" },
      { kind: "buffer", name: "codes", storage: codeStorage(format), access: "write" },
      { kind: "scalar", name: "n", type: "i32" },
      { kind: "scalar", name: "seed", type: "u32" },
    ],
    (b: Builder) => {
      const key = stochastic ? lowerRandomKey(b, { kind: "ref", type: "u32", name: "seed" }) : null;
      b.for("i", i32(0), { kind: "ref", type: "i32", name: "n" }, (i, body) => {
        const random = key === null ? null : lowerCounterRandom(body, key, i);
        body.store("codes", i, lowerEncodeElement(body, format, load("f32", "x", i), random));
      });
    },
  );
}

/** decode_elements(codes, out: f32[], n): out[i] = decode(codes[i]). */
export function lowerDecodeElements(format: ResolvedFormat): Kernel {
  return kernel(
    "decode_elements",
    [
      { kind: "buffer", name: "codes", storage: codeStorage(format), access: "read" },
      { kind: "buffer", name: "out", storage: "f32", access: "write" },
      { kind: "scalar", name: "n", type: "i32" },
    ],
    (b: Builder) => {
      b.for("i", i32(0), { kind: "ref", type: "i32", name: "n" }, (i, body) => {
        body.store("out", i, lowerDecodeElement(body, format, load("u32", "codes", i)));
      });
    },
  );
}
