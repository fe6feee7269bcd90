// ESLint flat config. Type-aware rules (no-floating-promises) on all TypeScript; workflow files
// must stay deterministic, so Node built-ins, I/O libraries and process.env are banned there.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { builtinModules } from "node:module";

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

// The layers: proto → gen → lib → services and workflows. Product code never reaches into the dev
// scripts or the benchmarks, and lib/ and workflows/ never into a service.
const noScriptsOrBench = { group: ["**/scripts/*", "**/bench/*"], message: "product code never imports scripts/ or bench/" };
const noServices = { group: ["**/services/**"], message: "lib/ and workflows/ never import a service" };
const layered = (...patterns) => ({ "@typescript-eslint/no-restricted-imports": ["error", { patterns }] });
const productNotTests = ["**/test/**", "**/*.test.ts"];

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", ".build/**", ".data/**", "gen/**", "coverage/**", "web/dist/**", "**/*.js", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Temporal workflow code is replayed: no I/O, no clocks or randomness outside the SDK's.
    files: ["workflows/**/*.ts"],
    // the worker and its config are Node code that hosts the workflows, and the booking client
    // is Node code the services use to talk to booking workflows: neither is workflow code
    ignores: ["workflows/worker.ts", "workflows/config.ts", "workflows/booking-client.ts", "workflows/**/*.test.ts", "workflows/test/**"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: nodeBuiltins.map((name) => ({ name, message: "workflow code must be deterministic: no Node built-ins" })),
          patterns: [
            { group: ["**/booking-client"], message: "the booking client is for services; a workflow talks to another through the SDK" },
            { group: ["pg", "knex", "pino", "jose", "@connectrpc/*", "@grpc/*", "stripe", "nodemailer", "@temporalio/client", "@temporalio/worker", "@temporalio/activity"], message: "no I/O in workflow code: call an activity" },
            { group: ["**/lib/*"], allowTypeImports: true, message: "workflow code imports types only from lib/" },
            { group: ["**/services/**"], message: "the layers run services → workflows, never back: activity interfaces live in workflows/" },
            noScriptsOrBench,
          ],
        },
      ],
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "no process.env in workflow code" }],
      "no-restricted-globals": ["error", { name: "process", message: "no process in workflow code" }],
    },
  },
  {
    files: ["services/**/*.ts"],
    ignores: productNotTests,
    rules: layered(noScriptsOrBench),
  },
  {
    // workflow code proper is held by the block above (which also refuses services/)
    files: ["lib/**/*.ts", "workflows/worker.ts", "workflows/config.ts", "workflows/booking-client.ts"],
    ignores: productNotTests,
    rules: layered(noScriptsOrBench, noServices),
  },
);
