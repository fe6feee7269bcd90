import { configTable, readmeTable } from "../scripts/config-docs";

describe("README", () => {
  it("documents exactly the environment variables the code declares (run `npm run config:docs`)", () => {
    expect(readmeTable()).toBe(configTable());
  });
});
