/**
 * One jest run for the whole repository. Integration suites share one embedded Postgres and one
 * Temporal dev server, started in globalSetup and stopped in globalTeardown (test/global-*.ts);
 * each suite makes its own database, so suites stay isolated while the engines start once.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>"],
  testPathIgnorePatterns: ["/node_modules/", "/dist/", "/.build/", "/.data/"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "<rootDir>/tsconfig.json", diagnostics: false }],
  },
  // generated code and sources import "./x.js" (node16 resolution); jest resolves the .ts file
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  globalSetup: "<rootDir>/test/global-setup.ts",
  globalTeardown: "<rootDir>/test/global-teardown.ts",
  testTimeout: 60000,
  maxWorkers: 2,
};
