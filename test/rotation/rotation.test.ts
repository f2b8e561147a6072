/**
 * Hadamard rotations (src/scaling/rotation): the ±1 matrix is orthogonal up to n exactly, the
 * kernels of every target (IR interpreter, JS, wasm, WGSL on a WebGPU device) compute the
 * semantics bit for bit on odd shapes and special values, and a GEMM of rotated operands equals
 * the unrotated GEMM within the rounding bound of the rotation.
 */
import { describe, expect, it } from "vitest";
import { interpret } from "../../src/codegen/ir/interpret.ts";
import { counterRandom } from "../../src/dsl/semantics/random.ts";
import { HADAMARD_SIZES, hadamardMatrix, rotationSigns, type HadamardRotation } from "../../src/scaling/rotation/hadamard.ts";
import { rotationKernelName, rotationModule } from "../../src/scaling/rotation/lower.ts";
import { rotate } from "../../src/scaling/rotation/semantics.ts";
import { loadJs } from "../../src/targets/js/load.ts";
import { loadWasm } from "../../src/targets/wasm/load.ts";
import { compileWgsl } from "../../src/targets/wgsl/compile.ts";
import { instantiateWgsl } from "../../src/targets/wgsl/runner.ts";
import { useWgslDevice } from "../targets/wgsl/gpu.ts";

const device = useWgslDevice();

/** Random float32 values over many binades, with zeros, subnormals and (optionally) NaN and ±Inf planted. */
function values(count: number, seed: number, specials: boolean): Float32Array {
  const x = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const u = counterRandom(seed, i);
    x[i] = ((u & 1) === 0 ? 1 : -1) * (1 + (u >>> 8) / 2 ** 24) * 2 ** (((u >>> 1) & 31) - 16);
  }
  if (count > 40) {
    x[3] = 0;
    x[5] = -0;
    x[7] = 1e-40; // subnormal
    x[11] = 3.4e38; // sums overflow to ±Inf
    x[12] = 3.4e38;
    if (specials) {
      x[count - 2] = Number.NaN;
      x[count - 30] = Number.POSITIVE_INFINITY;
    }
  }
  return x;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length), (b, i) => (Number.isNaN(a[i]) ? -1 : b));

/** (lanes, k) shapes: partial last blocks, k below the block size, one lane, one element. */
const SHAPES = [[3, 300], [1, 16], [5, 129], [2, 7], [1, 1], [4, 256], [0, 64]] as const;
const ROTATIONS: HadamardRotation[] = HADAMARD_SIZES.flatMap((size) => [{ kind: "hadamard", size }, { kind: "hadamard", size, signSeed: 1234 + size }] as const);

describe("Hadamard rotation", () => {
  it("H·Hᵀ = n·I exactly for the ±1 form, at every size", () => {
    for (const n of HADAMARD_SIZES) {
      const h = hadamardMatrix(n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let dot = 0;
          for (let t = 0; t < n; t++) dot += h[i * n + t] * h[j * n + t];
          expect(dot, `n=${n} (${i}, ${j})`).toBe(i === j ? n : 0);
        }
    }
  });

  it("the semantics equal the matrix form Hᵀ·D·v/√n within float32 rounding, and rotating twice without signs gives v back", () => {
    for (const rotation of ROTATIONS) {
      const n = rotation.size;
      const v = values(n, n, false).map((x) => Math.max(-1e3, Math.min(1e3, x)));
      const y = rotate(v, 1, n, rotation);
      const h = hadamardMatrix(n);
      const d = rotationSigns(rotation);
      for (let i = 0; i < n; i++) {
        let exact = 0;
        let mass = 0;
        for (let j = 0; j < n; j++) {
          exact += h[i * n + j] * d[j] * v[j];
          mass += Math.abs(v[j]);
        }
        exact /= Math.sqrt(n);
        expect(Math.abs(y[i] - exact)).toBeLessThanOrEqual(((Math.log2(n) + 2) * 2 ** -24 * mass) / Math.sqrt(n) + 1e-45);
      }
      if (rotation.signSeed === undefined && (n === 16 || n === 64)) {
        // H/√n is its own inverse; with an exact 1/√n, two rotations of small integers are exact.
        const ints = Float32Array.from({ length: n }, (_, j) => (counterRandom(9, j) % 201) - 100);
        expect(bits(rotate(rotate(ints, 1, n, rotation), 1, n, rotation))).toEqual(bits(ints));
      }
    }
  });

  it("sign vectors are ±1, reproducible from the seed, and differ between seeds", () => {
    const a = rotationSigns({ kind: "hadamard", size: 128, signSeed: 7 });
    expect(Array.from(a).every((s) => s === 1 || s === -1)).toBe(true);
    expect(Array.from(rotationSigns({ kind: "hadamard", size: 128, signSeed: 7 }))).toEqual(Array.from(a));
    expect(Array.from(rotationSigns({ kind: "hadamard", size: 128, signSeed: 8 }))).not.toEqual(Array.from(a));
    expect(Array.from(rotationSigns({ kind: "hadamard", size: 16 }))).toEqual(new Array(16).fill(1));
  });

  it("a rotation spreads an outlier over its block (the block's amax drops by √n)", () => {
    const x = new Float32Array(16).fill(0.01);
    x[5] = 100;
    const y = rotate(x, 1, 16, { kind: "hadamard", size: 16, signSeed: 3 });
    const amax = Math.max(...Array.from(y, Math.abs));
    expect(amax).toBeLessThan(100 / 4 + 0.2);
    expect(amax).toBeGreaterThan(100 / 4 - 0.2);
  });

  it("a GEMM of operands rotated along K equals the unrotated GEMM within the rotation's rounding bound", () => {
    for (const rotation of ROTATIONS) {
      const n = rotation.size;
      const [m, k, cols] = [3, 2 * n + 5, 4];
      const a = values(m * k, 11 + n, false).map((v) => Math.max(-50, Math.min(50, v)));
      const bt = values(cols * k, 12 + n, false).map((v) => Math.max(-50, Math.min(50, v))); // B stored transposed: each column a K-vector
      const ar = rotate(a, m, k, rotation);
      const br = rotate(bt, cols, k, rotation);
      const stages = Math.log2(n) + 2;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < cols; j++) {
          let exact = 0;
          let rotated = 0;
          let bound = 0;
          for (let t = 0; t < k; t++) {
            exact += a[i * k + t] * bt[j * k + t];
            rotated += ar[i * k + t] * br[j * k + t];
          }
          for (let start = 0; start + n <= k; start += n) {
            let l1a = 0;
            let l1b = 0;
            for (let t = start; t < start + n; t++) {
              l1a += Math.abs(a[i * k + t]);
              l1b += Math.abs(bt[j * k + t]);
            }
            bound += 2 * stages * 2 ** -24 * l1a * l1b;
          }
          expect(Math.abs(rotated - exact), `${JSON.stringify(rotation)} C[${i}][${j}]`).toBeLessThanOrEqual(bound + 1e-9 * Math.abs(exact));
        }
    }
  });
});

describe("rotation kernels = semantics, bit for bit", () => {
  const module = rotationModule();
  const cases = SHAPES.flatMap(([lanes, k]) => ROTATIONS.map((rotation, r) => ({ lanes, k, rotation, x: values(lanes * k, 100 + r + k, true) })));

  type Run = (name: string, x: Float32Array, y: Float32Array, signs: Float32Array, lanes: number, k: number) => Promise<void> | void;
  const check = async (run: Run) => {
    const bad: string[] = [];
    for (const { lanes, k, rotation, x } of cases) {
      const want = rotate(x, lanes, k, rotation);
      const got = new Float32Array(x.length);
      await run(rotationKernelName(rotation.size), x, got, rotationSigns(rotation), lanes, k);
      if (JSON.stringify(bits(got)) !== JSON.stringify(bits(want))) bad.push(`${lanes}×${k} ${JSON.stringify(rotation)}`);
    }
    expect(bad).toEqual([]);
  };

  it("IR interpreter", () =>
    check((name, x, y, signs, lanes, k) => interpret(module.kernels.find((kn) => kn.name === name)!, { x, y, signs, lanes, k })));
  it("JS", () => {
    const kernels = loadJs(module);
    return check((name, ...args) => kernels[name](...args));
  });
  it("wasm", async () => {
    const kernels = await loadWasm(module);
    return check((name, ...args) => kernels[name](...args));
  });
  it("WGSL on a WebGPU device", async () => {
    const { kernels } = await instantiateWgsl(compileWgsl(module), await device());
    return check((name, ...args) => kernels[name](...args));
  }, 120_000);
});
