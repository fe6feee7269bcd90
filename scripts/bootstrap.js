#!/usr/bin/env node
/**
 * The `prestart` / `pretest` hook: makes node_modules match package-lock.json before anything runs, so that a
 * fresh clone needs nothing but `npm start` (or `npm test`). Installs when node_modules is missing or older
 * than the lockfile; otherwise it only stats two files and exits (well under 0.5 s).
 *
 * Plain CommonJS without dependencies: it runs before the dependencies exist.
 */
"use strict";

const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

// ── configuration: the only place that reads process.env ──
// When run as an npm hook, this is the npm that runs us; use the same one for the install.
const NPM_CLI = process.env.npm_execpath;

const ROOT = path.resolve(__dirname, "..");
const LOCKFILE = path.join(ROOT, "package-lock.json");
const PACKAGE_JSON = path.join(ROOT, "package.json");
const NODE_MODULES = path.join(ROOT, "node_modules");
// npm writes this "hidden lockfile" at the end of every install: its mtime says when node_modules was last
// brought in line with a lockfile (the node_modules directory's own mtime does not: npm ci leaves it older).
const INSTALL_MARKER = path.join(NODE_MODULES, ".package-lock.json");

function mtimeMs(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function declaresDependencies() {
  const pkg = JSON.parse(fs.readFileSync(PACKAGE_JSON, "utf8"));
  return ["dependencies", "devDependencies", "optionalDependencies"].some((key) => Object.keys(pkg[key] || {}).length > 0);
}

/** Why node_modules needs an install, or undefined when it is up to date. */
function staleReason(hasLockfile) {
  // without dependencies npm creates no node_modules at all: nothing to install, ever
  if (!fs.existsSync(NODE_MODULES)) return declaresDependencies() ? "node_modules is missing" : undefined;
  const installed = mtimeMs(INSTALL_MARKER);
  if (installed === undefined) return "node_modules was not installed by npm (no node_modules/.package-lock.json)";
  const source = hasLockfile ? LOCKFILE : PACKAGE_JSON;
  const changed = mtimeMs(source);
  if (changed !== undefined && changed > installed) return `${path.basename(source)} is newer than node_modules`;
  return undefined;
}

function runNpm(args) {
  // the npm that runs this hook, else whichever is on PATH
  const [command, prefix] = NPM_CLI && NPM_CLI.endsWith(".js") ? [process.execPath, [NPM_CLI]] : ["npm", []];
  const result = spawnSync(command, [...prefix, ...args], {
    cwd: ROOT,
    stdio: "inherit",
    shell: process.platform === "win32" && command === "npm",
  });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function main() {
  const hasLockfile = fs.existsSync(LOCKFILE);
  const reason = staleReason(hasLockfile);
  if (!reason) return 0;

  const args = hasLockfile ? ["ci"] : ["install"];
  console.log(`[bootstrap] ${reason}: running npm ${args.join(" ")} ...`);
  const started = Date.now();
  const status = runNpm(args);
  if (status !== 0) {
    console.error(
      `[bootstrap] npm ${args.join(" ")} failed (exit code ${status}).` +
        (hasLockfile ? " If package.json changed without the lockfile, run `npm install` once." : ""),
    );
    return status;
  }
  // `npm install` can rewrite package-lock.json after the marker; mark node_modules as current from now
  const now = new Date();
  if (fs.existsSync(INSTALL_MARKER)) fs.utimesSync(INSTALL_MARKER, now, now);
  console.log(`[bootstrap] dependencies installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

process.exitCode = main();
