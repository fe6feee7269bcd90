import type { Knex } from "../../../lib/db.js";
import { BookingsRepo } from "./bookings-repo.js";
import { HoldsRepo } from "./holds-repo.js";
import { InventoryRepo } from "./inventory-repo.js";
import { ReconciliationRepo } from "./reconciliation-repo.js";
import { StartQueueRepo } from "./start-queue-repo.js";

/**
 * The booking service's repositories, one per concern, on one database. Only a bundle to pass
 * around: each part is used on its own, and what needs one part takes only that part.
 */
export interface BookingRepos {
  /** Showtimes' seat inventories: creation, seat maps, availability counts. */
  inventory: InventoryRepo;
  /** Holds and what becomes of them (release, confirm, payment status). */
  holds: HoldsRepo;
  /** Reads of bookings, and the payment-attempt mark. */
  bookings: BookingsRepo;
  /** Booking workflows still to be started. */
  starts: StartQueueRepo;
  /** The reaper's queries. */
  reconciliation: ReconciliationRepo;
}

export function bookingRepos(db: Knex): BookingRepos {
  return {
    inventory: new InventoryRepo(db),
    holds: new HoldsRepo(db),
    bookings: new BookingsRepo(db),
    starts: new StartQueueRepo(db),
    reconciliation: new ReconciliationRepo(db),
  };
}
