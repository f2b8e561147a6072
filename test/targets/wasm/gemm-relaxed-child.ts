/**
 * Child process of test/targets/wasm/gemm.test.ts, started as
 * `node --experimental-wasm-relaxed-simd --import tsx gemm-relaxed-child.ts` (Node 20 validates
 * relaxed SIMD only with that flag): runs the wasm GEMM checks with the relaxed micro-kernel and
 * prints their summary as one JSON line.
 */
import { createWasmAssembler, engineHasRelaxedSimd } from "../../../src/targets/wasm/assemble.ts";
import { checkAll } from "./gemm-check.ts";

const assembler = await createWasmAssembler();
const engine = engineHasRelaxedSimd(assembler);
process.stdout.write(`${JSON.stringify({ engine, summary: engine ? checkAll(assembler, true) : null })}\n`);
