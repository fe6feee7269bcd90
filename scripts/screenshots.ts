/**
 * `npm run screenshots`: the README's pictures of the real app. Starts the platform as `npm start`
 * does (with the demo data, on free ports, throw-away data), books and holds a few seats through
 * the REST API so that the seat map shows other buyers, then takes screenshots in headless
 * Chromium: search, the seat map with a selection, checkout, and the hall layout editor. Writes
 * docs/screenshots/*.png.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import type { Page } from "playwright-core";
import { launchChromium } from "./chromium";
import { startStack } from "./platform-stack";
import { restClient } from "./rest-client";

const OUT = path.resolve(__dirname, "..", "docs", "screenshots");
const ADMIN = { email: "admin@ticketing.local", password: "change-me-admin" };

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- REST answers

async function main(): Promise<void> {
  fs.mkdirSync(OUT, { recursive: true });
  const stack = await startStack({ CATALOG_DEMO_DATA: "true" });
  const rest = restClient(stack.gateway);
  const call = async (method: string, p: string, body?: unknown, token?: string): Promise<Json> => {
    const res = await rest(method, p, body, token);
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    return res.body;
  };
  const browser = await launchChromium();
  try {
    const admin = (await call("POST", "/api/v1/auth/login", ADMIN)).accessToken as string;
    const buyer = { email: `screens-${randomUUID().slice(0, 6)}@example.com`, password: "correct-horse-battery", displayName: "Asha" };
    await call("POST", "/api/v1/auth/register", buyer);

    // a cinema show tomorrow evening, with a few seats booked and held by other people
    let show: Json;
    for (let attempt = 0; attempt < 60 && !show; attempt++) {
      const found = await call("GET", "/api/v1/search/shows?city=Bengaluru&category=Movie&pageSize=50");
      show = found.results.find((r: Json) => Date.parse(r.showtime) > Date.now() + 20 * 3600_000 && r.availableSeats >= 150);
      if (!show) await new Promise((r) => setTimeout(r, 1000)); // the demo showtimes are still being indexed
    }
    if (!show) throw new Error("no demo showtime found in search");
    const showtimeId = show.showtimeId as string;
    const hold = (seatIds: string[]) => call("POST", `/api/v1/showtimes/${showtimeId}/seats/reserve`, { seatIds, userId: randomUUID() }, admin);
    for (const row of ["D", "E"]) {
      const { bookingId } = await hold([5, 6, 7, 8].map((n) => `${row}${n}`));
      await call("POST", "/api/v1/bookings", { bookingId, paymentMethodId: "pm_card_visa" }, admin);
    }
    await hold(["F11", "F12", "F13"]);
    await hold(["B14", "B15"]);

    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: "en-US", timezoneId: "Asia/Kolkata", baseURL: stack.gateway });
    const page = await context.newPage();
    await page.goto("/?city=Bengaluru");
    await page.getByRole("link", { name: /^Select seats/ }).first().waitFor();
    await page.screenshot({ path: path.join(OUT, "search.png") });

    await logIn(page, buyer);
    await page.goto(`/showtimes/${showtimeId}`);
    for (const id of ["G9", "G10"]) await page.getByRole("button", { name: new RegExp(`^Seat ${id}, \\w+, available$`) }).click();
    await page.getByRole("button", { name: /^Seat G10, \w+, selected$/ }).waitFor();
    await page.screenshot({ path: path.join(OUT, "seat-map.png"), fullPage: true });

    await page.getByRole("button", { name: "Hold seats" }).click();
    await page.getByRole("button", { name: "Pay", exact: true }).waitFor();
    await page.screenshot({ path: path.join(OUT, "checkout.png") });

    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL((url) => url.pathname === "/");
    await logIn(page, ADMIN);
    await page.goto(`/admin/venues/${show.venue.venueId}/halls/new`);
    await page.getByLabel("Hall name").fill("Screen 4");
    await page.getByRole("button", { name: "Add section" }).click();
    await page.getByRole("button", { name: /^Seat J12, premium/ }).waitFor();
    await page.screenshot({ path: path.join(OUT, "hall-editor.png"), fullPage: true });
    await context.close();
    process.stdout.write(`wrote ${fs.readdirSync(OUT).map((f) => path.join("docs/screenshots", f)).join(", ")}\n`);
  } finally {
    await browser.close();
    await stack.stop();
  }
}

async function logIn(page: Page, account: { email: string; password: string }): Promise<void> {
  await page.getByRole("banner").getByRole("link", { name: "Log in", exact: true }).click();
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("button", { name: "Log out" }).waitFor();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
