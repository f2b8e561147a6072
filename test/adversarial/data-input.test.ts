/**
 * Training data that cannot train or be scored (issue 15): `compare` refuses it before training,
 * with one line naming the data (file and line for MovieLens, with the file's own user ids) and
 * what is needed, exit 2 — instead of a run with no batches, or NaN in the report.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { leaveOneOut } from "../../src/runtime/data/leave-one-out.ts";
import { parseMovieLens } from "../../src/runtime/data/movielens.ts";
import { numforgeInProcess, STACK_TRACE, type CliResult } from "../cli/harness.ts";
import { writeIdxFixture } from "../compare/fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "numforge-adv-data-"));

function expectOneLine(result: CliResult, line: string): void {
  expect(result.stdout).toBe("");
  expect(result.code).toBe(2);
  expect(result.stderr).not.toMatch(STACK_TRACE);
  expect(result.stderr.trimEnd().split("\n")).toEqual([line]);
}

const compare = (model: string, data: string, ...more: string[]) =>
  numforgeInProcess(["compare", "--model", model, "--data", data, "--formats", "fp32", "--out", join(dir, "never-run"), ...more]);

/** A ratings.dat of `users` users (ids 101, 102, …) rating `items` items each, out of `items` items. */
function ratings(users: number, items: number): string {
  const lines: string[] = [];
  for (let u = 0; u < users; u++) for (let i = 0; i < items; i++) lines.push(`${101 + u}::${1 + i}::4::${1000 + i}`);
  return `${lines.join("\n")}\n`;
}

describe("MovieLens data: messages name the file's own user ids and lines", () => {
  it("too few items for 99 test negatives names the first user, by its id, at its first line", async () => {
    const file = join(dir, "few-items.dat");
    writeFileSync(file, ratings(3, 20));
    expectOneLine(
      await compare("ncf", file),
      `${file}:1: user 101 interacted with 20 of 20 items, leaving fewer than 99 test negatives (each user's held-out item is ranked against 99 items the user never had; the data needs more items)`,
    );
  });

  it("a later user's line, not its dense index", () => {
    // User 7 appears first on line 3 and is dense index 0 (ids sort); user 500 has every item.
    const text = "500::1::4::1\n500::2::4::2\n7::1::4::3\n7::2::4::4\n500::3::4::5\n";
    const data = parseMovieLens(text, "r.dat");
    expect(() => leaveOneOut(data, 0, 1)).toThrow("r.dat:1: user 500 interacted with 3 of 3 items, leaving fewer than 1 test negatives");
  });

  it("every user with a single rating leaves nothing to train on", async () => {
    const file = join(dir, "single.dat");
    // 150 users, each rating one item of its own: enough items for the test negatives, none left for training.
    writeFileSync(file, Array.from({ length: 150 }, (_, u) => `${101 + u}::${1 + u}::4::1000\n`).join(""));
    expectOneLine(await compare("ncf", file), `${file}: every one of the 150 users has a single interaction, which leave-one-out holds out for testing: nothing is left to train on`);
  });
});

describe("MNIST IDX data", () => {
  it("fewer training samples than one batch", async () => {
    const data = join(dir, "tiny");
    writeIdxFixture(data, 10, 5);
    expectOneLine(await compare("resnet", data), `${data}: 10 training samples, fewer than one batch of 32; use --batch-size 10 or less, or more data`);
  });

  it("an empty test set (it made accuracy NaN)", async () => {
    const data = join(dir, "no-test");
    writeIdxFixture(data, 40, 0);
    expectOneLine(await compare("resnet", data), `${join(data, "t10k-images-idx3-ubyte")}: holds no images: the test set must have at least one`);
  });

  it("an empty training set", async () => {
    const data = join(dir, "no-train");
    writeIdxFixture(data, 0, 5);
    expectOneLine(await compare("resnet", data), `${join(data, "train-images-idx3-ubyte")}: holds no images: the training set must have at least one`);
  });
});
