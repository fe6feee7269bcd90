/**
 * Real Chromium for the browser tests, the web benchmark and the screenshot script, driven by
 * playwright-core. Playwright's own browser download cannot work on machines without internet
 * access, so this uses Debian's `chromium` package: CHROMIUM_PATH when set, else the first
 * chromium on the machine, else it is installed with apt-get (as root, or through passwordless
 * sudo), the way the tests install the Temporal CLI with pip when it is missing. `.ci/run`
 * installs it before the tests, to keep that out of their timings.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { chromium, type Browser } from "playwright-core";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/snap/bin/chromium", "/usr/bin/google-chrome"];

function found(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  return CANDIDATES.find((p) => fs.existsSync(p));
}

/** The path of a Chromium executable, installing Debian's package when there is none. */
export function ensureChromium(): string {
  const existing = found();
  if (existing) return existing;
  const root = process.getuid?.() === 0;
  const sudo = root ? [] : ["sudo", "-n"];
  const run = (args: string[]) => {
    const [cmd, ...rest] = [...sudo, ...args];
    const r = spawnSync(cmd, rest, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    if (r.status !== 0) throw new Error(`\`${[cmd, ...rest].join(" ")}\` failed (exit code ${r.status}); install chromium yourself or set CHROMIUM_PATH`);
  };
  run(["apt-get", "update", "-qq"]);
  run(["apt-get", "install", "-y", "-qq", "chromium"]);
  const installed = found();
  if (!installed) throw new Error("apt-get installed chromium, but no chromium executable was found; set CHROMIUM_PATH");
  return installed;
}

/** Which Chromium, for reports and failure messages. */
export function chromiumVersion(executable: string): string {
  try {
    return execFileSync(executable, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return "unknown version";
  }
}

/**
 * Headless Chromium with nothing that reaches for the network by itself (its background
 * services are refused on closed machines, many at a time). Playwright gives it a throw-away
 * profile.
 */
export function launchChromium(): Promise<Browser> {
  const executablePath = ensureChromium();
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}
