// docs/sdk-typescript.md shows each example of this folder unchanged (they are type-checked
// by `tsc --noEmit`, so the page's code compiles).
import { readFile, readdir } from "node:fs/promises";
import { describe, expect, it } from "vitest";

const here = new URL("./", import.meta.url);

describe("docs/sdk-typescript.md", () => {
  it("shows every example as it is in sdk-examples/", async () => {
    const doc = await readFile(new URL("../../docs/sdk-typescript.md", here), "utf8");
    const blocks = [...doc.matchAll(/```tsx\n([\s\S]*?)```/g)].map((m) => m[1]);
    const files = (await readdir(here)).filter((f) => f.endsWith(".tsx")).sort();
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const source = await readFile(new URL(file, here), "utf8");
      expect(blocks, file).toContain(source);
    }
    expect(blocks).toHaveLength(files.length);
  });
});
