/**
 * The demo catalog `npm start` loads (CATALOG_DEMO_DATA=true): two Indian cities with real
 * coordinates, five venues, realistic halls (200-seat cinema screens with premium, standard and
 * wheelchair seats; 2,000-seat auditoriums with several sections), events of every category and
 * showtimes over the next two weeks. Every id is a version-5 UUID of a stable name, so loading
 * twice creates nothing new. Pure data and pure functions; demo/load.ts writes it.
 */
import type { JsonObject } from "@bufbuild/protobuf";
import { uuidV5 } from "../domain/ids.js";
import type { SeatLayoutInput } from "../domain/layout.js";

export const demoId = (kind: string, key: string) => uuidV5(`demo:${kind}:${key}`);

export interface DemoEvent {
  key: string;
  name: string;
  category: string;
  description: string;
  imageUrl: string;
  keywords: string[];
  durationMinutes: number;
  metadata: JsonObject;
}

export interface DemoHall {
  key: string;
  hallName: string;
  layout: SeatLayoutInput;
  /** Major units of the venue's currency, one per seat type of the layout. */
  prices: Record<string, number>;
  /** Local start times ("HH:MM") every day; slot i of day d (days since 1970) shows events[(d + i) % events.length]. */
  slots: string[];
  events: string[];
}

export interface DemoVenue {
  key: string;
  name: string;
  address: { street: string; city: string; district: string; state: string; zip: string; country: string };
  location: { lat: number; lon: number };
  imageUrls: string[];
  /** Minutes east of UTC of the venue's local time (India: +05:30, no DST). */
  utcOffsetMinutes: number;
  currency: string;
  halls: DemoHall[];
}

// ─── layouts ───

interface SectionSpec {
  id: string;
  name: string;
  seatType: string;
  rows: string[];
  seatsPerRow: number;
}

/** Rows of seats `<row><n>` with drawing coordinates: 30 units apart, rows 30 apart, centred. */
function layoutOf(sections: SectionSpec[], widest: number): SeatLayoutInput {
  let y = 20;
  return {
    sections: sections.map((s) => ({
      id: s.id,
      name: s.name,
      rows: s.rows.map((label) => {
        const left = 10 + ((widest - s.seatsPerRow) * 30) / 2;
        const row = {
          label,
          seats: Array.from({ length: s.seatsPerRow }, (_, i) => ({
            id: `${label}${i + 1}`,
            label: `${label}${i + 1}`,
            coordinates: { x: left + i * 30, y },
            seatType: s.seatType,
          })),
        };
        y += 30;
        return row;
      }),
    })),
  };
}

const letters = (from: string, to: string) =>
  Array.from({ length: to.charCodeAt(0) - from.charCodeAt(0) + 1 }, (_, i) => String.fromCharCode(from.charCodeAt(0) + i));

/** 200 seats: 140 standard (A–G × 20), 54 premium recliners (H–J × 18), 6 wheelchair spaces (W). */
export const cinema200 = (): SeatLayoutInput =>
  layoutOf(
    [
      { id: "standard", name: "Standard", seatType: "standard", rows: letters("A", "G"), seatsPerRow: 20 },
      { id: "premium", name: "Premium Recliners", seatType: "premium", rows: letters("H", "J"), seatsPerRow: 18 },
      { id: "accessible", name: "Wheelchair Spaces", seatType: "wheelchair", rows: ["W"], seatsPerRow: 6 },
    ],
    20,
  );

/** 120 seats: 96 standard (A–F × 16), 24 premium (G–H × 12). */
export const cinema120 = (): SeatLayoutInput =>
  layoutOf(
    [
      { id: "standard", name: "Standard", seatType: "standard", rows: letters("A", "F"), seatsPerRow: 16 },
      { id: "premium", name: "Premium", seatType: "premium", rows: letters("G", "H"), seatsPerRow: 12 },
    ],
    16,
  );

/**
 * 2,000 seats: Platinum stalls (A–J × 40 = 400), Gold stalls (K–Y × 40 = 600), Silver balcony
 * (BA–BT × 48 = 960) and 40 wheelchair spaces (row WC).
 */
export const auditorium2000 = (): SeatLayoutInput =>
  layoutOf(
    [
      { id: "platinum", name: "Platinum Stalls", seatType: "platinum", rows: letters("A", "J"), seatsPerRow: 40 },
      { id: "gold", name: "Gold Stalls", seatType: "gold", rows: letters("K", "Y"), seatsPerRow: 40 },
      { id: "silver", name: "Silver Balcony", seatType: "silver", rows: letters("A", "T").map((l) => `B${l}`), seatsPerRow: 48 },
      { id: "accessible", name: "Wheelchair Spaces", seatType: "wheelchair", rows: ["WC"], seatsPerRow: 40 },
    ],
    48,
  );

/** 150 seats: two VIP rows at the tables (A–B × 15) and 120 standard (C–J × 15). */
export const club150 = (): SeatLayoutInput =>
  layoutOf(
    [
      { id: "vip", name: "VIP Tables", seatType: "vip", rows: letters("A", "B"), seatsPerRow: 15 },
      { id: "floor", name: "Floor", seatType: "standard", rows: letters("C", "J"), seatsPerRow: 15 },
    ],
    15,
  );

// ─── events ───

export const DEMO_EVENTS: DemoEvent[] = [
  {
    key: "dark-knight-rises",
    name: "The Dark Knight Rises",
    category: "Movie",
    description: "Eight years after the Joker's reign of anarchy, Batman returns to defend Gotham City.",
    imageUrl: "demo/events/dark-knight-rises/poster.jpg",
    keywords: ["movie", "action", "batman", "superhero"],
    durationMinutes: 165,
    metadata: { language: "en", rating: "UA", format: "IMAX 2D" },
  },
  {
    key: "monsoon-express",
    name: "Monsoon Express",
    category: "Movie",
    description: "Strangers on the overnight train from Mumbai to Hyderabad find their lives entangled.",
    imageUrl: "demo/events/monsoon-express/poster.jpg",
    keywords: ["movie", "drama", "romance", "hindi"],
    durationMinutes: 150,
    metadata: { language: "hi", rating: "U", subtitles: ["en"] },
  },
  {
    key: "starfall",
    name: "Starfall",
    category: "Movie",
    description: "A salvage crew races a dying star to bring home the last colony ship.",
    imageUrl: "demo/events/starfall/poster.jpg",
    keywords: ["movie", "sci-fi", "space", "adventure"],
    durationMinutes: 130,
    metadata: { language: "te", rating: "UA", dubbed: ["hi", "ta"] },
  },
  {
    key: "ragas-at-dusk",
    name: "Ragas at Dusk: Carnatic Fusion Live",
    category: "Concert",
    description: "Violin, mridangam and synthesisers: an evening of Carnatic ragas reimagined.",
    imageUrl: "demo/events/ragas-at-dusk/poster.jpg",
    keywords: ["concert", "carnatic", "fusion", "live music"],
    durationMinutes: 150,
    metadata: { artists: ["The Dusk Ensemble"], ageLimit: 0 },
  },
  {
    key: "indie-rock-night",
    name: "Indie Rock Night",
    category: "Concert",
    description: "Three of the south's loudest indie bands on one stage.",
    imageUrl: "demo/events/indie-rock-night/poster.jpg",
    keywords: ["concert", "rock", "indie", "live music"],
    durationMinutes: 180,
    metadata: { artists: ["Filter Coffee", "Second Monsoon", "Ghats"], ageLimit: 16 },
  },
  {
    key: "laugh-riot",
    name: "Laugh Riot: Stand-up Special",
    category: "Comedy",
    description: "Four comics, ninety minutes, no topic safe: traffic, in-laws and start-ups.",
    imageUrl: "demo/events/laugh-riot/poster.jpg",
    keywords: ["comedy", "stand-up", "english", "hindi"],
    durationMinutes: 90,
    metadata: { language: "en", ageLimit: 18 },
  },
  {
    key: "volleyball-blasters-hawks",
    name: "Premier Volleyball: Bengaluru Blasters vs Hyderabad Hawks",
    category: "Sports",
    description: "The southern derby of the indoor volleyball season.",
    imageUrl: "demo/events/volleyball-blasters-hawks/poster.jpg",
    keywords: ["sports", "volleyball", "bengaluru", "hyderabad"],
    durationMinutes: 150,
    metadata: { league: "Premier Volleyball", home: "Bengaluru Blasters", away: "Hyderabad Hawks" },
  },
  {
    key: "hamlet",
    name: "Hamlet",
    category: "Theatre",
    description: "Shakespeare's tragedy of the Prince of Denmark, in a modern-dress production.",
    imageUrl: "demo/events/hamlet/poster.jpg",
    keywords: ["theatre", "shakespeare", "drama", "english"],
    durationMinutes: 180,
    metadata: { language: "en", company: "Deccan Players", interval: true },
  },
];

// ─── venues and halls ───

const cinemaPrices = { standard: 250, premium: 420, wheelchair: 250 };
const auditoriumPrices = { platinum: 2500, gold: 1500, silver: 800, wheelchair: 800 };

export const DEMO_VENUES: DemoVenue[] = [
  {
    key: "cineplex-101",
    name: "Cineplex 101",
    address: { street: "Plot 12, Hitech City Road", city: "Hyderabad", district: "Madhapur", state: "Telangana", zip: "500081", country: "IN" },
    location: { lat: 17.4431, lon: 78.4772 },
    imageUrls: ["demo/venues/cineplex-101/front.jpg", "demo/venues/cineplex-101/lobby.jpg"],
    utcOffsetMinutes: 330,
    currency: "INR",
    halls: [
      {
        key: "cineplex-101/screen-1",
        hallName: "Screen 1",
        layout: cinema200(),
        prices: cinemaPrices,
        slots: ["10:00", "13:30", "17:00", "20:30"],
        events: ["dark-knight-rises", "monsoon-express", "starfall"],
      },
      {
        key: "cineplex-101/screen-2",
        hallName: "Screen 2",
        layout: cinema120(),
        prices: { standard: 220, premium: 350 },
        slots: ["11:00", "14:30", "18:00", "21:30"],
        events: ["starfall", "monsoon-express"],
      },
    ],
  },
  {
    key: "shilpa-auditorium",
    name: "Shilpa Auditorium",
    address: { street: "Shilparamam Road", city: "Hyderabad", district: "HITEC City", state: "Telangana", zip: "500081", country: "IN" },
    location: { lat: 17.4526, lon: 78.3797 },
    imageUrls: ["demo/venues/shilpa-auditorium/front.jpg"],
    utcOffsetMinutes: 330,
    currency: "INR",
    halls: [
      {
        key: "shilpa-auditorium/main",
        hallName: "Main Auditorium",
        layout: auditorium2000(),
        prices: auditoriumPrices,
        slots: ["15:00", "19:30"],
        events: ["ragas-at-dusk", "hamlet", "indie-rock-night"],
      },
    ],
  },
  {
    key: "koramangala-cinemas",
    name: "Koramangala Cinemas",
    address: { street: "80 Feet Road, 6th Block", city: "Bengaluru", district: "Koramangala", state: "Karnataka", zip: "560095", country: "IN" },
    location: { lat: 12.9352, lon: 77.6245 },
    imageUrls: ["demo/venues/koramangala-cinemas/front.jpg"],
    utcOffsetMinutes: 330,
    currency: "INR",
    halls: [
      {
        key: "koramangala-cinemas/audi-1",
        hallName: "Audi 1",
        layout: cinema200(),
        prices: { standard: 280, premium: 450, wheelchair: 280 },
        slots: ["10:30", "14:00", "17:30", "21:00"],
        events: ["dark-knight-rises", "starfall", "monsoon-express"],
      },
    ],
  },
  {
    key: "indiranagar-comedy-club",
    name: "Indiranagar Comedy Club",
    address: { street: "100 Feet Road, HAL 2nd Stage", city: "Bengaluru", district: "Indiranagar", state: "Karnataka", zip: "560038", country: "IN" },
    location: { lat: 12.9719, lon: 77.6412 },
    imageUrls: ["demo/venues/indiranagar-comedy-club/stage.jpg"],
    utcOffsetMinutes: 330,
    currency: "INR",
    halls: [
      {
        key: "indiranagar-comedy-club/main-room",
        hallName: "Main Room",
        layout: club150(),
        prices: { vip: 999, standard: 599 },
        slots: ["19:00", "21:30"],
        events: ["laugh-riot"],
      },
    ],
  },
  {
    key: "kanteerava-arena",
    name: "Kanteerava Indoor Arena",
    address: { street: "Kasturba Road", city: "Bengaluru", district: "Sampangi Rama Nagar", state: "Karnataka", zip: "560001", country: "IN" },
    location: { lat: 12.9697, lon: 77.5933 },
    imageUrls: ["demo/venues/kanteerava-arena/court.jpg"],
    utcOffsetMinutes: 330,
    currency: "INR",
    halls: [
      {
        key: "kanteerava-arena/arena",
        hallName: "Arena",
        layout: auditorium2000(),
        prices: { platinum: 3000, gold: 2000, silver: 1000, wheelchair: 1000 },
        slots: ["19:00"],
        events: ["volleyball-blasters-hawks", "indie-rock-night"],
      },
    ],
  },
];

// ─── schedule ───

export interface DemoShowtime {
  id: string;
  eventKey: string;
  venue: DemoVenue;
  hall: DemoHall;
  startsAt: Date;
}

/**
 * The showtimes of the `days` local days starting today, each slot of each hall, skipping those
 * that start before `now` plus a margin (so every one is in the future). Ids are a function of
 * (hall, event, local date, slot): the same day's shows get the same ids on every load.
 */
export function demoShowtimes(now: Date, days = 14, marginMinutes = 15): DemoShowtime[] {
  const earliest = now.getTime() + marginMinutes * 60_000;
  const out: DemoShowtime[] = [];
  for (const venue of DEMO_VENUES) {
    const local = new Date(now.getTime() + venue.utcOffsetMinutes * 60_000);
    const y = local.getUTCFullYear();
    const m = local.getUTCMonth();
    const d0 = local.getUTCDate();
    for (let day = 0; day < days; day++) {
      const date = new Date(Date.UTC(y, m, d0 + day)).toISOString().slice(0, 10);
      for (const hall of venue.halls) {
        hall.slots.forEach((slot, i) => {
          const [hh, mm] = slot.split(":").map(Number);
          const startsAt = new Date(Date.UTC(y, m, d0 + day, hh, mm) - venue.utcOffsetMinutes * 60_000);
          if (startsAt.getTime() < earliest) return;
          // rotate on the absolute day number, so a date shows the same event whenever loaded
          const dayNumber = Math.floor(Date.UTC(y, m, d0 + day) / 86_400_000);
          const eventKey = hall.events[(dayNumber + i) % hall.events.length];
          out.push({
            id: demoId("showtime", `${hall.key}/${eventKey}/${date}/${slot}`),
            eventKey,
            venue,
            hall,
            startsAt,
          });
        });
      }
    }
  }
  return out;
}
