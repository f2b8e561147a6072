/** The scale rules of block scaling, by family. */
import type { BlockScaleRounding } from "./types.ts";

/** floor / ceil / even: an exact power of two from amax and the element's max (OCP MX). */
export const isPowerOfTwoRule = (rule: BlockScaleRounding): rule is "floor" | "ceil" | "even" => rule === "floor" || rule === "ceil" || rule === "even";
