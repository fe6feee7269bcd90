/**
 * Real Chromium for the browser tests, the web benchmark and the screenshot script, driven by
 * playwright-core. Playwright's own browser download cannot work on machines without internet
 * access, so this uses Debian's `chromium` package: CHROMIUM_PATH when set, else the first
 * chromium on the machine, else Debian's package is installed (scripts/system-tools.ts).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { aptInstall } from "./system-tools.js";

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
  aptInstall(["chromium"], "install chromium yourself or set CHROMIUM_PATH");
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
 * profile. `extraArgs` adds switches (the door scanner's test gives it a fake camera).
 */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
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
      ...extraArgs,
    ],
  });
}
