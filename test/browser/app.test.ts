/**
 * The browser app in real Chromium (Debian's package, driven by playwright-core) against the
 * platform started as `npm start` starts it: the gateway serves the built app and the APIs, every
 * service runs as its own process on embedded Postgres and the Temporal dev server.
 *
 * Tests find things the way users do: by role and accessible name. The names used here
 * (`Seat A1, standard, available`, `Hold seats`, `Best available`, `Pay`, `Search shows`,
 * `Select seats…`, the log-in form's `Email`, `Password` and `Log in`) are part of the app's
 * interface (see web/README).
 * Every wait is for an event on the page (an element, a name, a response), never for time alone.
 */
import AxeBuilder from "@axe-core/playwright";
import { randomUUID } from "node:crypto";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ensureChromium, launchChromium } from "../support/browser";
import { launchStack, withOutput, type Stack } from "../support/stack";
import { waitFor } from "../support/waiting";
import { createShow, getBooking, holdSeats, login, registerUser, restClient, type Rest } from "./fixtures";

const ADMIN = { email: "admin@ticketing.local", password: "change-me-admin" };
/** Generous bounds for one UI step on a loaded 2-core machine; they only decide when a test gives up. */
const STEP_MS = 30_000;

let stack: Stack;
let base: string;
let rest: Rest;
let browser: Browser;
/** The contexts of the running test, closed after it (their streams and polling stop with them). */
let contexts: BrowserContext[] = [];

beforeAll(async () => {
  ensureChromium(); // may install Debian's package: before the stack starts, so it does not count against it
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
  await browser?.close().catch(() => undefined);
  if (stack) {
    stack.child.kill("SIGTERM");
    // bounded: cleanup() kills whatever is left anyway
    await Promise.race([stack.exited, new Promise((r) => setTimeout(r, 60_000))]);
    await stack.cleanup();
  }
}, 90_000);

/** An admin token of its own for each use: a suite this long outlives one (15 minutes). */
const adminToken = () => login(rest, ADMIN.email, ADMIN.password);

/** The options of every browser profile here: a fixed locale and zone, so that formats do not depend on the machine. */
const PROFILE = { viewport: { width: 1280, height: 900 }, locale: "en-US", timezoneId: "UTC" } as const;

/** A fresh browser profile (its own cookies) with one page; failures of the page are test failures. */
async function newPage(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ ...PROFILE, baseURL: base });
  context.setDefaultTimeout(STEP_MS);
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(err.message));
  return { page, errors };
}

async function logInThroughUi(page: Page, account: { email: string; password: string }) {
  await page.getByRole("banner").getByRole("link", { name: "Log in", exact: true }).click();
  await page.getByLabel("Email").fill(account.email);
  await page.getByLabel("Password").fill(account.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("button", { name: "Log out" }).waitFor();
}

const seat = (page: Page, id: string, type: string, status: string) => page.getByRole("button", { name: `Seat ${id}, ${type}, ${status}`, exact: true });
const unique = (name: string) => `${name} ${randomUUID().slice(0, 6)}`;

describe("buying tickets in the browser", () => {
  it("golden path: register, search, pick 2 seats, hold, pay, confirmed, in My bookings, cancel, refunded, seats free again", async () => {
    const show = await createShow(rest, await adminToken(), unique("Golden Path Gala"));
    const { page, errors } = await newPage();
    await page.goto("/");

    // register
    await page.getByRole("link", { name: "Register" }).click();
    const email = `golden-${randomUUID().slice(0, 8)}@example.com`;
    await page.getByLabel("Display name").fill("Goldie");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill("correct-horse-battery");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.getByRole("button", { name: "Log out" }).waitFor();

    // the refresh token is never readable by scripts, and the session survives a reload
    expect(await page.evaluate("document.cookie")).toBe("");
    await page.reload();
    await page.getByRole("button", { name: "Log out" }).waitFor();

    // search → showtime
    await page.getByRole("searchbox", { name: "Search shows" }).fill(show.eventName);
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByRole("link", { name: new RegExp(`^Select seats for ${show.eventName}`) }).click();

    // pick two seats and hold them
    await seat(page, "A1", "standard", "available").click();
    await seat(page, "A2", "standard", "available").click();
    await seat(page, "A1", "standard", "selected").waitFor();
    await seat(page, "A2", "standard", "selected").waitFor();
    await page.getByRole("button", { name: "Hold seats" }).click();

    // pay with the development gateway's test card
    await page.getByText("Your seats are held for").waitFor();
    await page.getByLabel("Visa test card: succeeds").check();
    await page.getByRole("button", { name: "Pay", exact: true }).click();
    await page.getByRole("heading", { name: "Booking confirmed" }).waitFor();
    const bookingId = page.url().split("/").pop() as string;

    // in My bookings
    await page.getByRole("link", { name: "My bookings", exact: true }).click();
    const row = page.getByRole("link", { name: new RegExp(`^Booking of ${show.eventName}, .*, confirmed$`) });
    await row.waitFor();

    // cancel → refunded, seats free again
    await row.click();
    await page.getByRole("button", { name: "Cancel booking" }).click();
    await page.getByRole("button", { name: "Yes, cancel booking" }).click();
    await page.getByText("Your payment has been refunded.").waitFor();
    const token = await login(rest, email, "correct-horse-battery");
    expect(await getBooking(rest, token, bookingId)).toMatchObject({ status: "cancelled", paymentStatus: "refunded", bookedSeats: ["A1", "A2"] });
    await page.goto(`/showtimes/${show.showtimeId}`);
    await seat(page, "A1", "standard", "available").waitFor();
    await seat(page, "A2", "standard", "available").waitFor();
    expect(errors).toEqual([]);
  }, 180_000);

  it("search near me: the browser's location gives each result its distance, with price from and seats left", async () => {
    const show = await createShow(rest, await adminToken(), unique("Nearby Nocturne"));
    const context = await browser.newContext({
      ...PROFILE,
      baseURL: base,
      geolocation: { latitude: 12.98, longitude: 77.6 }, // about 1.5 km from the test venue
      permissions: ["geolocation"],
    });
    context.setDefaultTimeout(STEP_MS);
    contexts.push(context);
    const page = await context.newPage();
    await page.goto("/");
    await page.getByRole("searchbox", { name: "Search shows" }).fill(show.eventName);
    await page.getByRole("button", { name: "Use my location" }).click();
    await page.getByText("Near your location").waitFor();
    const card = page.getByRole("listitem").filter({ has: page.getByRole("link", { name: new RegExp(`^Select seats for ${show.eventName}`) }) });
    await card.waitFor();
    const text = await card.innerText();
    expect(text).toMatch(/\b1\.\d km away\b/);
    expect(text).toContain("from $12.50");
    expect(text).toContain("18 seats left");
  }, 120_000);

  it("two buyers on one showtime: a hold in one shows as held in the other, pushed by the stream", async () => {
    const show = await createShow(rest, await adminToken(), unique("Live Map Matinee"));
    const [ann, bob] = [await registerUser(rest, "Ann"), await registerUser(rest, "Bob")];
    const a = await newPage();
    const b = await newPage();
    for (const [who, p] of [[ann, a.page], [bob, b.page]] as const) {
      await p.goto("/");
      await logInThroughUi(p, who);
      await p.goto(`/showtimes/${show.showtimeId}`);
      await seat(p, "B3", "standard", "available").waitFor();
    }
    // from here on Bob's page makes no request: what it learns comes on the open stream
    const bobRequests: string[] = [];
    b.page.on("request", (r) => bobRequests.push(r.url()));

    await seat(a.page, "B3", "standard", "available").click();
    await seat(a.page, "B4", "standard", "available").click();
    const holdAnswered = a.page.waitForResponse((r) => r.url().includes("ReserveSeats"));
    await a.page.getByRole("button", { name: "Hold seats" }).click();
    const answeredAt = Date.now();
    expect((await holdAnswered).status()).toBe(200);

    await seat(b.page, "B3", "standard", "held").waitFor();
    await seat(b.page, "B4", "standard", "held").waitFor();
    const lagMs = Date.now() - answeredAt;
    expect(bobRequests).toEqual([]);
    console.log(`hold seen in the other browser ${lagMs} ms after the hold's answer`);
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
  }, 180_000);

  it("an on-sale with a waiting room: the seat map sends the buyer to the queue, the queue page lets them in, and the hold carries their token", async () => {
    const show = await createShow(rest, await adminToken(), unique("Queue Quartet"));
    // opens at once (an on-sale time in the past), admitting 600 a minute: one step lets this buyer in
    const room = await rest(
      "PUT",
      `/api/v1/showtimes/${show.showtimeId}/waiting-room`,
      { enabled: true, onSaleAt: new Date(Date.now() - 1_000).toISOString(), admissionRatePerMinute: 600 },
      await adminToken(),
    );
    expect(room.status).toBe(200);
    const buyer = await registerUser(rest, "Quinn");
    // without a token the API refuses the hold and says how to queue
    const refused = await rest("POST", `/api/v1/showtimes/${show.showtimeId}/seats/reserve`, { seatIds: ["A1"] }, buyer.token);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain(`/api/v1/showtimes/${show.showtimeId}/waiting-room/entries`);

    const { page, errors } = await newPage();
    await page.goto("/");
    await logInThroughUi(page, buyer);
    await page.goto(`/showtimes/${show.showtimeId}`);
    await page.getByText("This sale has a waiting room.").waitFor();
    expect(await page.getByRole("button", { name: "Hold seats" }).count()).toBe(0);
    await page.getByRole("link", { name: "Join the queue" }).click();

    await page.getByRole("heading", { name: "Waiting room" }).waitFor();
    await page.getByRole("heading", { name: "It is your turn" }).waitFor();
    await page.getByRole("link", { name: "Choose seats" }).click();

    await seat(page, "A1", "standard", "available").click();
    await seat(page, "A2", "standard", "available").click();
    await page.getByRole("button", { name: "Hold seats" }).click();
    await page.getByText("Your seats are held for").waitFor();
    const bookingId = page.url().split("/").pop() as string;
    expect(await getBooking(rest, buyer.token, bookingId)).toMatchObject({ status: "held", bookedSeats: ["A1", "A2"] });

    // the place is the account's: another device (a fresh profile) finds the same admitted entry
    const again = await rest("GET", `/api/v1/showtimes/${show.showtimeId}/waiting-room/entries/me`, undefined, buyer.token);
    expect(again.body).toMatchObject({ status: "admitted" });
    await rest("PUT", `/api/v1/showtimes/${show.showtimeId}/waiting-room`, { enabled: false }, await adminToken());
    expect(errors).toEqual([]);
  }, 180_000);

  it("a declined card shows why and keeps the seats held; another card then succeeds", async () => {
    const show = await createShow(rest, await adminToken(), unique("Declined Then Paid"));
    const buyer = await registerUser(rest, "Dee");
    const { page, errors } = await newPage();
    await page.goto("/");
    await logInThroughUi(page, buyer);
    await page.goto(`/showtimes/${show.showtimeId}`);
    await seat(page, "C1", "premium", "available").click();
    await page.getByRole("button", { name: "Hold seats" }).click();
    await page.getByText("Your seats are held for").waitFor();
    const bookingId = page.url().split("/").pop() as string;

    await page.getByLabel("Test card that is declined").check();
    await page.getByRole("button", { name: "Pay", exact: true }).click();
    const alert = page.getByRole("alert").filter({ hasText: "declined" });
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/The payment did not go through\..*declined.*seats stay held/s);
    // still held: another card can be tried (the inventory says so too)
    expect(await getBooking(rest, buyer.token, bookingId)).toMatchObject({ status: "held" });
    const inventory = await rest("GET", `/api/v1/showtimes/${show.showtimeId}/inventory`, undefined, buyer.token);
    expect(inventory.body.seatMap.seats.find((s: { seatId: string }) => s.seatId === "C1")).toMatchObject({ status: "held", bookingId });
    await page.getByText("Your seats are held for").waitFor();

    await page.getByLabel("Visa test card: succeeds").check();
    await page.getByRole("button", { name: "Pay", exact: true }).click();
    await page.getByRole("heading", { name: "Booking confirmed" }).waitFor();
    expect(await getBooking(rest, buyer.token, bookingId)).toMatchObject({ status: "confirmed", paymentStatus: "paid" });
    expect(errors).toEqual([]);
  }, 180_000);

  it("best available: the buyer asks for 2 seats and gets the middle of the front row, held, at checkout", async () => {
    const show = await createShow(rest, await adminToken(), unique("Best Seats"));
    const buyer = await registerUser(rest, "Bea");
    const { page, errors } = await newPage();
    await page.goto("/");
    await logInThroughUi(page, buyer);
    await page.goto(`/showtimes/${show.showtimeId}`);
    const form = page.getByRole("form", { name: "Best available seats" });
    await form.getByLabel("Number of seats").selectOption("2");
    await form.getByRole("button", { name: "Best available" }).click();
    await page.getByText("Your seats are held for").waitFor();
    const bookingId = page.url().split("/").pop() as string;
    // row A is nearest the stage (drawn above the seats); A3 and A4 are its middle
    expect(await getBooking(rest, buyer.token, bookingId)).toMatchObject({ status: "held", bookedSeats: ["A3", "A4"] });
    expect(errors).toEqual([]);
  }, 180_000);

  it("a short hold counts down on screen and, at zero, says the seats were released", async () => {
    const show = await createShow(rest, await adminToken(), unique("Countdown Concert"));
    const buyer = await registerUser(rest, "Cass");
    const { page, errors } = await newPage();
    await page.goto("/");
    await logInThroughUi(page, buyer);
    // the shortest hold the API allows
    const hold = await holdSeats(rest, buyer.token, show.showtimeId, ["A5", "A6"], 60);
    await page.goto(`/checkout/${hold.bookingId}`);
    await page.getByRole("timer").filter({ hasText: "Your seats are held for" }).waitFor();
    await page.getByText("Your hold has expired and the seats were released.").waitFor({ timeout: 120_000 });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(hold.heldUntil));
    expect(await page.getByRole("button", { name: "Pay", exact: true }).count()).toBe(0);
    await page.getByRole("link", { name: "Choose seats again" }).click();
    await seat(page, "A5", "standard", "available").waitFor();
    expect(errors).toEqual([]);
  }, 240_000);

  it("the whole purchase works with the keyboard alone", async () => {
    const show = await createShow(rest, await adminToken(), unique("Keyboard Kabaret"));
    const buyer = await registerUser(rest, "Kay");
    const { page, errors } = await newPage();
    await page.goto("/login");
    await tabTo(page, "textbox", "Email");
    await page.keyboard.type(buyer.email);
    await tabTo(page, "textbox", "Password");
    await page.keyboard.type(buyer.password);
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "Log out" }).waitFor();

    await tabTo(page, "searchbox", "Search shows");
    await page.keyboard.type(show.eventName);
    await page.keyboard.press("Enter");
    await page.getByRole("link", { name: new RegExp(`^Select seats for ${show.eventName}`) }).waitFor();
    await tabTo(page, "link", new RegExp(`^Select seats for ${show.eventName}`));
    await page.keyboard.press("Enter");

    // the map is one tab stop; arrows move between seats, Enter selects
    await seat(page, "A1", "standard", "available").waitFor();
    await tabTo(page, "button", /^Seat A1, standard, available$/);
    await page.keyboard.press("ArrowDown"); // B1
    await page.keyboard.press("Enter");
    await page.keyboard.press("ArrowRight"); // B2
    await page.keyboard.press(" ");
    await seat(page, "B1", "standard", "selected").waitFor();
    await seat(page, "B2", "standard", "selected").waitFor();
    await tabTo(page, "button", "Hold seats");
    await page.keyboard.press("Enter");

    await page.getByText("Your seats are held for").waitFor();
    await page.getByLabel("Visa test card: succeeds").waitFor();
    await tabTo(page, "radio", "Visa test card: succeeds");
    await page.keyboard.press("Space");
    await tabTo(page, "button", "Pay");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Booking confirmed" }).waitFor();
    expect(errors).toEqual([]);
  }, 180_000);
});

describe("venue managers in the browser", () => {
  it("an admin creates a venue, a hall in the editor, an event and a showtime; a buyer then finds it by search", async () => {
    const { page, errors } = await newPage();
    await page.goto("/");
    await logInThroughUi(page, ADMIN);
    const venueName = unique("Editor Arena");
    const eventName = unique("Editor Premiere");

    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Venues" }).click();
    await page.getByRole("link", { name: "New venue" }).click();
    await page.getByLabel("Venue name").fill(venueName);
    await page.getByLabel("City", { exact: true }).fill("Testville");
    await page.getByLabel("Latitude").fill("12.9716");
    await page.getByLabel("Longitude").fill("77.5946");
    await page.getByRole("button", { name: "Create venue" }).click();
    await page.getByRole("heading", { name: venueName }).waitFor();

    // the layout editor: two generated sections, previewed by the seat-map component
    await page.getByRole("link", { name: "New hall" }).click();
    await page.getByLabel("Hall name").fill("Main Hall");
    await page.getByLabel("Rows", { exact: true }).fill("3");
    await page.getByLabel("Seats per row", { exact: true }).fill("8");
    await page.getByRole("button", { name: "Add section" }).click();
    const second = page.getByRole("group", { name: "Section 2" });
    await second.getByLabel("Rows", { exact: true }).fill("1");
    await second.getByLabel("Seats per row", { exact: true }).fill("6");
    await page.getByText("30 seats in 2 sections; seat types: standard, premium").waitFor();
    await page.getByRole("button", { name: "Seat D6, premium, available" }).waitFor(); // the preview
    await page.getByRole("button", { name: "Create hall" }).click();
    await page.getByText("Main Hall").waitFor();

    await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Events" }).click();
    await page.getByRole("link", { name: "New event" }).click();
    await page.getByLabel("Event name").fill(eventName);
    await page.getByLabel("Category", { exact: true }).fill("Concert");
    await page.getByRole("button", { name: "Create event" }).click();
    await page.getByRole("heading", { name: eventName }).waitFor();

    const startsAt = new Date(Date.now() + 3 * 86_400_000);
    const local = new Date(startsAt.getTime() - startsAt.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await page.getByLabel("Venue", { exact: true }).selectOption({ label: `${venueName} (Testville)` });
    await page.getByLabel("Hall", { exact: true }).selectOption({ label: "Main Hall (30 seats)" });
    await page.getByLabel("Starts at").fill(local);
    await page.getByLabel("Currency").fill("EUR");
    await page.getByLabel("Price for standard").fill("15");
    await page.getByLabel("Price for premium").fill("25.50");
    await page.getByRole("button", { name: "Create showtime" }).click();
    await page.getByText("Showtime scheduled").waitFor();
    expect(errors).toEqual([]);

    // a buyer finds it (the index follows the outbox within seconds: wait for it, then search as a user would)
    await waitFor("the new showtime in search", async () => {
      const r = await rest("GET", `/api/v1/search/shows?query=${encodeURIComponent(eventName)}`);
      return r.body?.results?.length > 0;
    });
    const buyer = await newPage();
    await buyer.page.goto("/");
    await buyer.page.getByRole("searchbox", { name: "Search shows" }).fill(eventName);
    await buyer.page.getByRole("button", { name: "Search", exact: true }).click();
    await buyer.page.getByRole("link", { name: new RegExp(`^Select seats for ${eventName}, .* at ${venueName}$`) }).click();
    await seat(buyer.page, "A1", "standard", "available").waitFor();
    expect(await buyer.page.getByRole("button", { name: /^Seat / }).count()).toBe(30);
    expect(await buyer.page.getByText("€25.50").count()).toBeGreaterThan(0);
    expect(buyer.errors).toEqual([]);
  }, 240_000);
});

describe("safe and accessible by default", () => {
  it("names typed by users render as text, never as markup", async () => {
    const payload = "<img src=x onerror=alert(1)>";
    const show = await createShow(rest, await adminToken(), payload, { venueName: `<script>alert(2)</script> ${randomUUID().slice(0, 6)}` });
    const { page, errors } = await newPage();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`/events/${show.eventId}`);
    await page.getByRole("heading", { level: 1, name: payload }).waitFor();
    await page.goto(`/?q=${encodeURIComponent(payload)}`);
    await page.getByRole("link", { name: `Select seats for ${payload}`, exact: false }).first().waitFor();
    await page.goto(`/showtimes/${show.showtimeId}`);
    await page.getByRole("heading", { level: 1, name: payload }).waitFor();
    await page.getByText(show.venueName, { exact: false }).first().waitFor();
    expect(await page.locator('img[src="x"], script:not([src])').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
  }, 120_000);

  it("an API refusal is shown in the API's words: a review by someone who did not attend", async () => {
    const show = await createShow(rest, await adminToken(), unique("Unseen Opera"));
    const buyer = await registerUser(rest, "Rita");
    const { page, errors } = await newPage();
    await page.goto("/");
    await logInThroughUi(page, buyer);
    await page.goto(`/events/${show.eventId}`);
    await page.getByLabel("Your review").fill("I was not there, but I have opinions.");
    await page.getByRole("button", { name: "Publish review" }).click();
    const refusal = await rest("POST", `/api/v1/events/${show.eventId}/reviews`, { rating: 5, text: "same again" }, buyer.token);
    expect(refusal.status).toBe(403);
    await page.getByRole("alert").filter({ hasText: refusal.body.message }).waitFor();
    expect(await page.getByText("Thank you, your review is published.").count()).toBe(0);
    expect(errors).toEqual([]);
  }, 120_000);

  it("axe-core finds no serious or critical violation on the main pages", async () => {
    const show = await createShow(rest, await adminToken(), unique("Accessible Aria"));
    const buyer = await registerUser(rest, "Axel");
    const hold = await holdSeats(rest, buyer.token, show.showtimeId, ["A1"]);
    const { page } = await newPage();
    const pages: Array<[string, string, () => Promise<void>]> = [
      ["search", "/", () => page.getByRole("searchbox", { name: "Search shows" }).waitFor()],
      ["log in", "/login", () => page.getByLabel("Password").waitFor()],
      ["register", "/register", () => page.getByLabel("Display name").waitFor()],
      ["event", `/events/${show.eventId}`, () => page.getByRole("heading", { name: "Showtimes" }).waitFor()],
      ["seat map", `/showtimes/${show.showtimeId}`, () => seat(page, "A2", "standard", "available").waitFor()],
    ];
    const signedIn: Array<[string, string, () => Promise<void>]> = [
      ["checkout", `/checkout/${hold.bookingId}`, () => page.getByRole("button", { name: "Pay", exact: true }).waitFor()],
      ["my bookings", "/bookings", () => page.getByRole("heading", { name: "Notifications" }).waitFor()],
      ["booking", `/bookings/${hold.bookingId}`, () => page.getByRole("heading", { name: "Notifications about this booking" }).waitFor()],
    ];
    const report: string[] = [];
    const check = async ([name, path, ready]: [string, string, () => Promise<void>]) => {
      await page.goto(path);
      await ready();
      const result = await new AxeBuilder({ page }).analyze();
      for (const v of result.violations.filter((x) => x.impact === "serious" || x.impact === "critical")) {
        report.push(`${name}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(" ")).slice(0, 3).join("; ")}`);
      }
    };
    for (const p of pages) await check(p);
    await page.goto("/");
    await logInThroughUi(page, buyer);
    for (const p of signedIn) await check(p);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL((url) => url.pathname === "/");
    await logInThroughUi(page, ADMIN);
    for (const p of [
      ["admin venues", "/admin/venues", () => page.getByRole("link", { name: "New venue" }).waitFor()],
      ["hall editor", `/admin/venues/${show.venueId}/halls/new`, () => page.getByRole("button", { name: /^Seat A1, standard/ }).waitFor()],
      ["admin event", `/admin/events/${show.eventId}`, () => page.getByRole("button", { name: "Create showtime" }).waitFor()],
      ["occupancy", `/admin/showtimes/${show.showtimeId}`, () => seat(page, "A1", "standard", "held").waitFor()],
    ] as Array<[string, string, () => Promise<void>]>)
      await check(p);
    expect(report).toEqual([]);
  }, 240_000);

  it("the gateway serves the app with a Content-Security-Policy and immutable hashed assets, and app routes fall back to it", async () => {
    const html = await fetch(`${base}/events/anything`);
    expect(html.status).toBe(200);
    expect(html.headers.get("content-security-policy")).toContain("script-src 'self'");
    const body = await html.text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(body)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${base}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("cache-control")).toContain("immutable");
    const api = await fetch(`${base}/api/v1/nope`);
    expect(api.status).toBe(404);
    expect(api.headers.get("content-type")).toContain("application/json");

    // the production build of React (its development build asks for DevTools in the console)
    const { page } = await newPage();
    const consoleLines: string[] = [];
    page.on("console", (m) => consoleLines.push(m.text()));
    await page.goto("/");
    await page.getByRole("searchbox", { name: "Search shows" }).waitFor();
    expect(consoleLines.filter((l) => l.includes("React DevTools"))).toEqual([]);
  });
});

/**
 * The focused element's role and accessible name, roughly as assistive technology computes them
 * for the elements this app uses (run in the page, hence a string: the tests compile without DOM
 * types).
 */
const FOCUSED_ROLE_AND_NAME = `(() => {
  const el = document.activeElement;
  if (!el) return { role: "", name: "" };
  const tag = el.tagName.toLowerCase();
  const type = (el.getAttribute("type") || "").toLowerCase();
  const role = el.getAttribute("role") ||
    (tag === "a" ? "link" : tag === "button" ? "button" : tag === "input" ? (type === "search" ? "searchbox" : type === "radio" ? "radio" : "textbox") : tag);
  const labelled = el.id ? document.querySelector('label[for="' + el.id + '"]')?.textContent : undefined;
  const wrapping = el.closest("label")?.textContent;
  const name = (el.getAttribute("aria-label") ?? labelled ?? wrapping ?? el.textContent ?? "").trim();
  return { role, name };
})()`;

/** Presses Tab until the element with this role and name has the focus (at most 60 times). */
async function tabTo(page: Page, role: string, name: string | RegExp) {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press("Tab");
    const focused = (await page.evaluate(FOCUSED_ROLE_AND_NAME)) as { role: string; name: string };
    if (focused.role === role && (typeof name === "string" ? focused.name === name : name.test(focused.name))) return;
  }
  throw new Error(`Tab never reached the ${role} named ${String(name)}`);
}

