/**
 * The WebGPU device of a WGSL test file: opened on first use and shared by the file's tests,
 * closed after them. Without an adapter every test that needs it fails with what to install —
 * these tests run for real (Mesa lavapipe on a machine without a GPU), they are never skipped.
 */
import { afterAll } from "vitest";
import { openWgslDevice, type WgslDevice } from "../../../src/targets/wgsl/device.ts";

/** Registers the file's device; the returned function resolves to it (or rejects with the install hint). */
export function useWgslDevice(): () => Promise<WgslDevice> {
  let opened: Promise<WgslDevice> | undefined;
  afterAll(async () => {
    if (opened !== undefined) (await opened.catch(() => undefined))?.close();
  });
  return () => (opened ??= openWgslDevice());
}
