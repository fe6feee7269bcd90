/** Real Chromium for the browser tests (scripts/chromium.ts: Debian's package, driven by playwright-core). */
export { ensureChromium, launchChromium } from "../../scripts/chromium";
