/**
 * Tickets and the door scanner in real Chromium, against the platform started as `npm start`
 * starts it (see app.test.ts for the set-up and the rules): a buyer pays and finds a QR code per
 * seat on the booking page; door staff (a user an admin made "door") admit a ticket from its
 * typed code, once; the camera reads a code from Chromium's fake camera (a video of the ticket's
 * QR code, made by the test); and offline, the scanner verifies on the device and reconciles its
 * scans when the network is back.
 *
 * Names this relies on (the scanner's interface): link `Door` in the header, fields `Showtime id`,
 * `Gate`, `Ticket code`, buttons `Start camera` / `Stop camera`, the live region `Scan result`, the
 * region `Check-in counts`, images `QR code of the ticket for seat <seat>`.
 */
import AxeBuilder from "@axe-core/playwright";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ensureChromium, launchChromium } from "../support/browser";
import { launchStack, withOutput, type Stack } from "../support/stack";
import { createShow, login, registerUser, restClient, type Account, type Rest } from "./fixtures";
import { writeQrVideo } from "./qr-video";
import { waitFor } from "../support/waiting";

const ADMIN = { email: "admin@ticketing.local", password: "change-me-admin" };
const STEP_MS = 30_000;
const PROFILE = { viewport: { width: 1280, height: 900 }, locale: "en-US", timezoneId: "UTC" } as const;

let stack: Stack;
let base: string;
let rest: Rest;
let browser: Browser;
let contexts: BrowserContext[] = [];
const browsers: Browser[] = [];
let scratch: string;

beforeAll(async () => {
  ensureChromium();
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "tickets-browser-"));
  stack = await launchStack();
  try {
    base = await stack.ready;
  } catch (err) {
    throw withOutput(err, stack);
  }
  rest = restClient(base);
  browser = await launchChromium();
}, 420_000);

afterEach(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  contexts = [];
});

afterAll(async () => {
  for (const b of [browser, ...browsers]) await b?.close().catch(() => undefined);
  if (stack) {
    stack.child.kill("SIGTERM");
    await Promise.race([stack.exited, new Promise((r) => setTimeout(r, 60_000).unref())]);
    await stack.cleanup();
  }
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
}, 90_000);

const adminToken = () => login(rest, ADMIN.email, ADMIN.password);
const unique = (name: string) => `${name} ${randomUUID().slice(0, 6)}`;

async function newPage(on: Browser = browser): Promise<{ page: Page; errors: string[] }> {
  const context = await on.newContext({ ...PROFILE, baseURL: base });
  context.setDefaultTimeout(STEP_MS);
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  return { page, errors };
}

async function logInThroughUi(page: Page, account: { email: string; password: string }) {
  await page.goto("/");
  await page.getByRole("banner").getByRole("link", { name: "Log in", exact: true }).click();
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("button", { name: "Log out" }).waitFor();
}

interface TicketJson {
  ticketId: string;
  seatId: string;
  payload: string;
  status: string;
}

/**
 * A buyer who picked `seats` on the seat map and paid with the test card, looking at the
 * confirmed booking; with the booking's tickets as the API lists them.
 */
async function buyInTheBrowser(seats: string[]) {
  const show = await createShow(rest, await adminToken(), unique("Ticketed Tango"));
  const buyer = await registerUser(rest, "Tess Ticket");
  const { page, errors } = await newPage();
  await logInThroughUi(page, buyer);
  await page.goto(`/showtimes/${show.showtimeId}`);
  for (const s of seats) await page.getByRole("button", { name: `Seat ${s}, standard, available`, exact: true }).click();
  await page.getByRole("button", { name: "Hold seats" }).click();
  await page.getByLabel("Visa test card: succeeds").check();
  await page.getByRole("button", { name: "Pay", exact: true }).click();
  await page.getByRole("heading", { name: "Booking confirmed" }).waitFor();
  const bookingId = page.url().split("/").pop() as string;
  // the tickets follow the confirmation by a moment ("issuing your tickets…"): the page shows them when they are there
  for (const s of seats) await page.getByRole("img", { name: `QR code of the ticket for seat ${s}` }).waitFor();
  const listed = await rest("GET", `/api/v1/bookings/${bookingId}/tickets`, undefined, buyer.token);
  expect(listed.status).toBe(200);
  const tickets = new Map((listed.body.tickets as TicketJson[]).map((t) => [t.seatId, t]));
  return { show, buyer, page, errors, bookingId, tickets };
}

/** A registered user made door staff by the admin, signed in (the role comes with the next login). */
async function doorStaff(name: string): Promise<Account> {
  const user = await registerUser(rest, name);
  const granted = await rest("PUT", `/api/v1/users/${user.userId}/role`, { role: "door" }, await adminToken());
  expect(granted.status).toBe(200);
  expect(granted.body).toMatchObject({ userId: user.userId, role: "door" });
  return { ...user, token: await login(rest, user.email, user.password) };
}

async function openScanner(page: Page, account: Account, showtimeId: string, gate: string) {
  await logInThroughUi(page, account);
  await page.getByRole("banner").getByRole("link", { name: "Door", exact: true }).click();
  await page.getByRole("heading", { name: "Door scanner" }).waitFor();
  await page.getByLabel("Showtime id").fill(showtimeId);
  await page.getByLabel("Gate").fill(gate);
}

const result = (page: Page, text: string | RegExp) => page.getByRole("status", { name: "Scan result" }).filter({ hasText: text });
const counts = (page: Page, text: string) => page.getByRole("region", { name: "Check-in counts" }).filter({ hasText: text });

/** The QR image as the browser drew it, decoded by an independent decoder (jsQR on a screenshot). */
async function decodeOnScreen(page: Page, seat: string): Promise<string | undefined> {
  const png = PNG.sync.read(await page.getByRole("img", { name: `QR code of the ticket for seat ${seat}` }).screenshot());
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
}

async function seriousAxeViolations(page: Page, name: string): Promise<string[]> {
  const found = await new AxeBuilder({ page }).analyze();
  return found.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${name}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join("; ")}`);
}

describe("tickets and the door scanner in the browser", () => {
  it("a paid booking shows a QR code per seat; door staff admit a typed code once, the same again is ALREADY USED, garbage is INVALID and the field is ready at once", async () => {
    const { show, page: buyerPage, errors: buyerErrors, bookingId, tickets } = await buyInTheBrowser(["A1", "A2"]);
    expect([...tickets.keys()].sort()).toEqual(["A1", "A2"]);
    const a1 = tickets.get("A1") as TicketJson;
    // what the page shows is the ticket's own code: a phone camera would read the payload back
    expect(await decodeOnScreen(buyerPage, "A1")).toBe(a1.payload);
    expect(await buyerPage.getByRole("img", { name: "QR code of the ticket for seat A1" }).getAttribute("src")).toMatch(/^data:image\/svg\+xml/);
    const axe = await seriousAxeViolations(buyerPage, "booking with tickets");

    const door = await doorStaff("Dora Door");
    // a door account cannot read the buyer's booking or tickets
    expect((await rest("GET", `/api/v1/bookings/${bookingId}/tickets`, undefined, door.token)).status).toBe(404);
    const { page, errors } = await newPage();
    await openScanner(page, door, show.showtimeId, "north-1");
    await counts(page, "0 admitted of 2 sold").waitFor();
    axe.push(...(await seriousAxeViolations(page, "door scanner")));

    const code = page.getByLabel("Ticket code");
    await code.fill(a1.payload);
    await code.press("Enter");
    await result(page, "ADMITTED").filter({ hasText: "A1" }).waitFor();
    await counts(page, "1 admitted of 2 sold").waitFor();
    expect(await code.inputValue()).toBe("");
    axe.push(...(await seriousAxeViolations(page, "door scanner, admitted")));

    await code.fill(a1.payload);
    await code.press("Enter");
    await result(page, "ALREADY USED").filter({ hasText: "at gate north-1" }).waitFor();

    await code.fill("NOT-A-TICKET");
    await code.press("Enter");
    await result(page, "INVALID").waitFor();
    axe.push(...(await seriousAxeViolations(page, "door scanner, invalid")));
    // ready for the next code at once: the field is empty and has the focus, so typing goes straight into it
    expect(await code.inputValue()).toBe("");
    expect(await page.evaluate("document.activeElement?.labels?.[0]?.textContent")).toBe("Ticket code");
    await page.keyboard.type(a1.payload);
    await page.keyboard.press("Enter");
    await result(page, "ALREADY USED").waitFor();

    // the buyer's page says the ticket was used, where
    await buyerPage.reload();
    await buyerPage.getByRole("listitem", { name: "Ticket for seat A1" }).filter({ hasText: "used" }).filter({ hasText: "at gate north-1" }).waitFor();
    await buyerPage.getByRole("listitem", { name: "Ticket for seat A2" }).filter({ hasText: "valid" }).waitFor();
    expect(axe).toEqual([]);
    expect(errors).toEqual([]);
    expect(buyerErrors).toEqual([]);
  }, 300_000);

  it("the camera reads a ticket's QR code (Chromium's fake camera plays a video of it) and admits it once, however long it stays in view", async () => {
    const { show, tickets } = await buyInTheBrowser(["B1", "B2"]);
    const b2 = tickets.get("B2") as TicketJson;
    const video = path.join(scratch, `ticket-${b2.ticketId}.y4m`);
    writeQrVideo(video, b2.payload);
    const withCamera = await launchChromium(["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", `--use-file-for-fake-video-capture=${video}`]);
    browsers.push(withCamera);
    const door = await doorStaff("Cam Door");
    const { page, errors } = await newPage(withCamera);
    await openScanner(page, door, show.showtimeId, "east");
    await counts(page, "0 admitted of 2 sold").waitFor();
    const checkIns: string[] = [];
    page.on("request", (r) => r.url().includes("TicketsService/CheckIn") && checkIns.push(r.url()));

    await page.getByRole("button", { name: "Start camera" }).click();
    await result(page, "ADMITTED").filter({ hasText: "B2" }).waitFor();
    await counts(page, "1 admitted of 2 sold").waitFor();
    // the code stays in view: read again and again (30 more times), and not checked in again
    const cameraView = page.getByLabel("Camera view");
    const codesRead = async () => Number(await cameraView.getAttribute("data-codes-read"));
    const readSoFar = await codesRead();
    await waitFor("the camera to read the code 30 more times", async () => (await codesRead()) >= readSoFar + 30, STEP_MS);
    await page.getByRole("button", { name: "Stop camera" }).click();
    await page.getByRole("button", { name: "Start camera" }).waitFor();
    expect(checkIns).toHaveLength(1);
    expect(await result(page, "ALREADY USED").count()).toBe(0);
    expect(errors).toEqual([]);
  }, 300_000);

  it("offline, the scanner verifies a ticket on the device and queues the scan; back online it uploads it and reports the duplicate entry another gate made meanwhile", async () => {
    const { show, tickets } = await buyInTheBrowser(["A5", "A6"]);
    const a5 = tickets.get("A5") as TicketJson;
    const door = await doorStaff("Olive Offline");
    const { page, errors } = await newPage();
    // the public keys are what offline verification needs: fetched when the scanner opens
    const keysFetched = page.waitForResponse((r) => r.url().includes("TicketsService/ListSigningKeys") && r.status() === 200);
    await openScanner(page, door, show.showtimeId, "west");
    await keysFetched;
    await counts(page, "0 admitted of 2 sold").waitFor();

    await page.context().setOffline(true);
    const code = page.getByLabel("Ticket code");
    await code.fill(a5.payload);
    await code.press("Enter");
    await result(page, "ADMITTED (offline)").filter({ hasText: "A5" }).waitFor();
    await page.getByText("1 scan made offline is waiting to be uploaded").waitFor();
    // a forged code is refused offline too: the last character changed breaks the signature (or the encoding)
    const last = a5.payload.at(-1) === "A" ? "B" : "A";
    await code.fill(a5.payload.slice(0, -1) + last);
    await code.press("Enter");
    await result(page, "INVALID").waitFor();

    // meanwhile another gate, online, lets the same ticket in (later than the offline scan)
    const other = await rest("POST", "/api/v1/checkins", { payload: a5.payload, gate: "south" }, door.token);
    expect(other.status).toBe(200);
    expect(other.body).toMatchObject({ result: "admitted", seatId: "A5" });

    await page.context().setOffline(false);
    // the earlier (offline) scan is the admission; the later one at gate south is reported as a second entry
    await page.getByRole("region", { name: "Offline scans" }).filter({ hasText: "Seat A5" }).filter({ hasText: "at gate south also let this ticket in" }).waitFor();
    await counts(page, "1 admitted of 2 sold").filter({ hasText: "1 duplicate entry" }).waitFor();
    expect(await page.getByText(/waiting to be uploaded/).count()).toBe(0);
    expect(errors).toEqual([]);
  }, 300_000);
});
