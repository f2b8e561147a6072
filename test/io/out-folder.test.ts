/** The output folders no command may write into (src/io/out-folder.ts). */
import { describe, expect, it } from "vitest";
import { unsafeOutFolder } from "../../src/io/out-folder.ts";

const cwd = "/work/project";
const home = "/home/ada";
const check = (out: string) => unsafeOutFolder(out, cwd, home);

describe("unsafeOutFolder", () => {
  it("refuses empty values, the current directory, home, the root and any folder above them", () => {
    expect(check("")).toMatch(/^is empty/);
    expect(check("   ")).toMatch(/^is empty/);
    expect(check(".")).toMatch(/^is the current directory/);
    expect(check("./")).toMatch(/^is the current directory/);
    expect(check(cwd)).toMatch(/^is the current directory/);
    expect(check("sub/..")).toMatch(/^is the current directory/);
    expect(check(home)).toMatch(/^is your home directory/);
    expect(check("/")).toMatch(/^is the filesystem root/);
    expect(check("..")).toMatch(/^contains the current directory \(\/work\/project\)/);
    expect(check("/home")).toMatch(/^contains your home directory/);
  });

  it("accepts a folder inside or beside them", () => {
    for (const out of ["./kernels", "kernels", "../sibling", "/tmp/x", `${home}/kernels`, "/work/project-kernels", "/home/ada2"]) expect(check(out), out).toBeUndefined();
  });
});
