import { describe, expect, it } from "vitest";
import { SeenPositions } from "./positions.js";

describe("SeenPositions", () => {
  it("says yes once per position, and forgets only the oldest when full", () => {
    const seen = new SeenPositions(4);
    expect([1, 2, 2, 3, 1].map((p) => seen.add(p))).toEqual([true, true, false, true, false]);
    seen.add(4);
    seen.add(5); // over capacity: 1 and 2 go
    expect(seen.add(5)).toBe(false);
    expect(seen.add(4)).toBe(false);
    expect(seen.add(1)).toBe(true);
  });
});
