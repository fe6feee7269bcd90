/**
 * The browser app in headless Chromium (Debian's package) against the benchmark's stack:
 * (Its page code is evaluated with the CSP bypassed: Playwright polls string predicates with eval.)
 *   1. the JavaScript the first page loads, as the gateway sends it (gzip and brotli);
 *   2. a 20,000-seat hall's seat map: from the inventory snapshot's arrival to the map painted,
 *      and from navigation start to painted (fetching the app, the 20,000-seat layout and the
 *      snapshot included), median of several fresh page loads;
 *   3. 100 seat changes a second arriving on the WatchInventory stream for 30 s (10 holds of 10
 *      seats a second, made through the REST API): the lag from each hold's answer to its seats
 *      shown as held in the page, per 5 s window (a backlog would make it grow), and how busy the
 *      page's main thread was.
 */
import { gzipSync, brotliCompressSync } from "node:zlib";
import { randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { chromiumVersion, ensureChromium, launchChromium } from "../scripts/chromium";
import type { Benchmark } from "./context";
import { adminSession, createShowtime } from "./platform";
import { ms, percentile } from "./stats";

const ROWS = 100;
const SEATS_PER_ROW = 200;
const RENDER_RUNS = 5;
const STREAM_SECONDS = 30;
const HOLDS_PER_SECOND = 10;
const SEATS_PER_HOLD = 10;
const BUDGET_KB = 150;

/** The scripts the first page loads: the entry and its module preloads, as index.html lists them. */
async function initialScripts(gateway: string): Promise<Array<{ path: string; raw: number; gzip: number; brotli: number; sent: number }>> {
  const html = await (await fetch(`${gateway}/`)).text();
  const paths = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1]);
  const out = [];
  for (const p of [...new Set(paths)]) {
    const body = Buffer.from(await (await fetch(gateway + p, { headers: { "accept-encoding": "identity" } })).arrayBuffer());
    const sent = await fetch(gateway + p, { headers: { "accept-encoding": "gzip" } }); // what the gateway sends a browser asking for gzip
    const sentBytes = Number(sent.headers.get("content-length") ?? (await sent.arrayBuffer()).byteLength);
    out.push({ path: p, raw: body.length, gzip: gzipSync(body, { level: 9 }).length, brotli: brotliCompressSync(body).length, sent: sentBytes });
  }
  return out;
}

/** Milliseconds since navigation start, except the durations and the byte count. */
interface RenderRun {
  dataToPainted: number;
  navigationToPainted: number;
  appLoaded: number;
  hallRequested: number;
  hallReceived: number;
  hallBytes: number;
  streamOpened: number;
  snapshotReceived: number;
  dataApplied: number;
}

async function renderRun(page: Page, url: string): Promise<RenderRun> {
  await page.goto(url);
  await page.waitForFunction(PAINTED, undefined, { timeout: 60_000 });
  return (await page.evaluate(`(() => {
    const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
    const rpc = (method) => performance.getEntriesByType("resource").find((e) => e.name.includes("/" + method));
    const hall = rpc("GetHall");
    const stream = rpc("WatchInventory");
    return {
      dataToPainted: at("seat-map-painted") - at("seat-map-data"),
      navigationToPainted: at("seat-map-painted"),
      appLoaded: performance.getEntriesByType("navigation")[0]?.domContentLoadedEventEnd ?? NaN,
      hallRequested: hall?.startTime ?? NaN,
      hallReceived: hall?.responseEnd ?? NaN,
      hallBytes: hall?.encodedBodySize ?? NaN,
      streamOpened: stream?.startTime ?? NaN,
      snapshotReceived: at("inventory-snapshot"),
      dataApplied: at("seat-map-data"),
    };
  })()`)) as RenderRun;
}

// (page code is passed as strings: the bench runs under tsx, whose helpers do not exist in the page)
const PAINTED = `performance.getEntriesByName("seat-map-painted").length > 0`;

/** Seat ids as their label changes to "held", with the page's wall-clock time. */
const WATCH_HELD = `(() => {
  window.__held = [];
  const svg = document.querySelector("svg.seat-map-canvas");
  new MutationObserver((records) => {
    const now = performance.timeOrigin + performance.now();
    for (const r of records) {
      const label = r.target.getAttribute("aria-label") || "";
      if (label.endsWith(", held")) window.__held.push([label, now]);
    }
  }).observe(svg, { subtree: true, attributes: true, attributeFilter: ["aria-label"] });
})()`;

export const webBench: Benchmark = {
  name: "web: the browser app",
  async run(ctx) {
    const gateway = ctx.stack.gateway;
    const scripts = await initialScripts(gateway);
    const total = (k: "raw" | "gzip" | "brotli" | "sent") => scripts.reduce((s, x) => s + x[k], 0);
    const kb = (b: number) => `${(b / 1024).toFixed(1)} kB`;

    // the token run.ts made is older than an access token lives by the time this runs
    const adminToken = await adminSession(ctx.rest);
    const { showtimeId } = await createShowtime(ctx.rest, adminToken, "Web Bench Stadium", ROWS, SEATS_PER_ROW);
    const browser = await launchChromium();
    const lines: string[] = [];
    try {
      // ── first render of a 20,000-seat map ──
      const runs: RenderRun[] = [];
      for (let i = 0; i < RENDER_RUNS + 1; i++) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
        const page = await context.newPage();
        const run = await renderRun(page, `${gateway}/showtimes/${showtimeId}`);
        if (i > 0) runs.push(run); // the first load warms the gateway's file cache and the services
        await context.close();
      }
      const med = (k: keyof RenderRun) => percentile(runs.map((r) => r[k]).sort((a, b) => a - b), 50);
      const worst = (k: keyof RenderRun) => Math.max(...runs.map((r) => r[k]));

      // ── 100 seat changes a second on the stream ──
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
      const page = await context.newPage();
      await page.goto(`${gateway}/showtimes/${showtimeId}`);
      await page.waitForFunction(PAINTED, undefined, { timeout: 60_000 });
      await page.evaluate(WATCH_HELD);
      const cdp = await context.newCDPSession(page);
      await cdp.send("Performance.enable");
      const taskSeconds = async () => {
        const { metrics } = (await cdp.send("Performance.getMetrics")) as { metrics: Array<{ name: string; value: number }> };
        return metrics.find((m) => m.name === "TaskDuration")?.value ?? NaN;
      };
      const busyBefore = await taskSeconds();
      const holds: Array<{ seats: string[]; answeredAt: number }> = [];
      const failures: string[] = [];
      const n = STREAM_SECONDS * HOLDS_PER_SECOND;
      const started = Date.now();
      const pending: Array<Promise<void>> = [];
      for (let h = 0; h < n; h++) {
        const due = started + (h * 1000) / HOLDS_PER_SECOND;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        // row h % ROWS, a block of 10 seats of its own
        const row = h % ROWS;
        const first = Math.floor(h / ROWS) * SEATS_PER_HOLD + 1;
        const seats = Array.from({ length: SEATS_PER_HOLD }, (_, i) => `R${row + 1}-${first + i}`);
        pending.push(
          ctx
            .rest("POST", `/api/v1/showtimes/${showtimeId}/seats/reserve`, { seatIds: seats, userId: randomUUID() }, adminToken)
            .then((r) => {
              if (r.status === 201) holds.push({ seats, answeredAt: Date.now() });
              else failures.push(`${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
            }),
        );
      }
      await Promise.all(pending);
      const generatedSeconds = (Date.now() - started) / 1000;
      const expected = holds.length * SEATS_PER_HOLD;
      const deadline = Date.now() + 30_000;
      let seen: Array<[string, number]> = [];
      while (Date.now() < deadline) {
        seen = (await page.evaluate("window.__held")) as Array<[string, number]>;
        if (seen.length >= expected) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const busy = (await taskSeconds()) - busyBefore;
      const shownAt = new Map<string, number>();
      for (const [label, at] of seen) {
        const id = /^Seat (\S+),/.exec(label)?.[1];
        if (id && !shownAt.has(id)) shownAt.set(id, at);
      }
      const lags: Array<{ at: number; lag: number }> = [];
      let missing = 0;
      for (const h of holds) {
        for (const s of h.seats) {
          const at = shownAt.get(s);
          if (at === undefined) missing++;
          else lags.push({ at: h.answeredAt - started, lag: at - h.answeredAt });
        }
      }
      await context.close();

      const sorted = lags.map((l) => l.lag).sort((a, b) => a - b);
      const windows: string[] = [];
      for (let w = 0; w < STREAM_SECONDS; w += 5) {
        const inWindow = lags.filter((l) => l.at >= w * 1000 && l.at < (w + 5) * 1000).map((l) => l.lag).sort((a, b) => a - b);
        windows.push(`${w}–${w + 5} s: p50 ${ms(percentile(inWindow, 50))}, p95 ${ms(percentile(inWindow, 95))}`);
      }

      lines.push(
        `Chromium: ${chromiumVersion(ensureChromium())}, headless, 1280×900.`,
        "",
        `### Initial JavaScript (target ≤ ${BUDGET_KB} kB gzipped)`,
        "",
        "The scripts `index.html` loads before the first page (its entry and module preloads); every other page is a chunk loaded on demand.",
        "",
        "| script | raw | gzip -9 | brotli | sent by the gateway (gzip) |",
        "|---|---:|---:|---:|---:|",
        ...scripts.map((s) => `| \`${s.path}\` | ${kb(s.raw)} | ${kb(s.gzip)} | ${kb(s.brotli)} | ${kb(s.sent)} |`),
        `| **total** | ${kb(total("raw"))} | **${kb(total("gzip"))}** | ${kb(total("brotli"))} | ${kb(total("sent"))} |`,
        "",
        `### First render of a ${(ROWS * SEATS_PER_ROW).toLocaleString("en")}-seat hall (target ≤ 1 s)`,
        "",
        `Median (and worst) of ${RENDER_RUNS} fresh page loads after one warm-up load.`,
        "",
        "| from | to | median | worst |",
        "|---|---|---:|---:|",
        `| layout and snapshot in hand (the store filled) | seat map painted | **${ms(med("dataToPainted"))}** | ${ms(worst("dataToPainted"))} |`,
        `| navigation start (app, layout and snapshot fetched) | seat map painted | ${ms(med("navigationToPainted"))} | ${ms(worst("navigationToPainted"))} |`,
        "",
        "Where a page load's time goes (medians, ms since navigation start): " +
          `app loaded ${med("appLoaded").toFixed(0)}; ` +
          `hall layout requested ${med("hallRequested").toFixed(0)}, received ${med("hallReceived").toFixed(0)} (${(med("hallBytes") / 1024).toFixed(0)} kB on the wire); ` +
          `stream opened ${med("streamOpened").toFixed(0)}, snapshot received ${med("snapshotReceived").toFixed(0)}; ` +
          `store filled ${med("dataApplied").toFixed(0)}; painted ${med("navigationToPainted").toFixed(0)}.`,
        "",
        `### ${HOLDS_PER_SECOND * SEATS_PER_HOLD} seat changes a second on the stream, for ${STREAM_SECONDS} s`,
        "",
        `${holds.length} holds of ${SEATS_PER_HOLD} seats made in ${generatedSeconds.toFixed(1)} s (${failures.length} refused${failures.length ? `: ${failures[0]}` : ""}); ` +
          `${lags.length} of ${expected} seat changes shown in the page (${missing} missing).`,
        "Lag: from the hold's answer to the bench to the seat's name saying `held` in the page (negative when the stream beat the answer).",
        "",
        `- overall: p50 ${ms(percentile(sorted, 50))}, p95 ${ms(percentile(sorted, 95))}, p99 ${ms(percentile(sorted, 99))}, max ${ms(sorted[sorted.length - 1] ?? NaN)}`,
        ...windows.map((w) => `- ${w}`),
        `- the page's main thread was busy ${(busy * 1000).toFixed(0)} ms over those ${generatedSeconds.toFixed(0)} s (${((busy / generatedSeconds) * 100).toFixed(1)} %): rendering keeps up when this stays well under 100 % and the lag does not grow from window to window.`,
      );
    } finally {
      await browser.close();
    }
    return lines.join("\n");
  },
};
