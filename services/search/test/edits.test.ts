import { oneEditAway } from "../engines/postgres-words.js";

describe("oneEditAway (Postgres typo candidates for short words)", () => {
  it("deletes, swaps, replaces and inserts one letter; never the word itself; nothing below 3 letters", () => {
    const jzaz = oneEditAway("jzaz");
    expect(jzaz).toContain("jazz"); // swap
    expect(jzaz).not.toContain("jzaz");
    const jazz = new Set(oneEditAway("jazz"));
    for (const w of ["jaz", "jazzy", "razz", "ajzz", "jaz2"]) expect(jazz.has(w)).toBe(true);
    expect(jazz.has("jazzyy")).toBe(false); // two edits
    expect(oneEditAway("ab")).toEqual([]);
    // its own letters outside a–z/0–9 are tried too
    expect(oneEditAway("café")).toContain("cafée");
  });
});
