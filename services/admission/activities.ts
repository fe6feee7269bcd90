import type { Client } from "@connectrpc/connect";
import type { BookingService } from "../../gen/ticketing/booking/v1/booking_pb.js";
import type { Logger } from "../../lib/logger.js";
import type { AdmissionActivities, RoomSnapshot } from "../../workflows/waiting-room-types.js";
import type { AdmissionRepo } from "./db/repo.js";
import type { Room } from "./domain/room.js";

export interface ActivityDeps {
  repo: AdmissionRepo;
  /** The booking service with this service's credential (SetAdmissionRequired). */
  booking: Pick<Client<typeof BookingService>, "setAdmissionRequired">;
  logger: Logger;
}

export function snapshotOf(room: Room): RoomSnapshot {
  return {
    enabled: room.enabled,
    state: room.state,
    onSaleAtMs: room.onSaleAt.getTime(),
    showtimeStartsAtMs: room.showtimeStartsAt.getTime(),
    ratePerMinute: room.ratePerMinute,
    maxActiveBuyers: room.maxActiveBuyers,
    servingNumber: room.servingNumber,
    lastPosition: room.lastPosition,
    generation: room.generation,
  };
}

/**
 * The gate workflow's activities (workflows/waiting-room.ts), run by this service's worker on the
 * workflow's own queue. Each is idempotent (a retry finds the step done); failures (database or
 * booking down) are plain errors, retried by the workflow's policy.
 */
export function createAdmissionActivities(deps: ActivityDeps): AdmissionActivities {
  const { repo, logger } = deps;
  const gone = (showtimeId: string): never => {
    throw new Error(`waiting room ${showtimeId} does not exist`);
  };
  return {
    async readRoom({ showtimeId }) {
      const room = await repo.getRoom(showtimeId);
      return room && snapshotOf(room);
    },
    async setGate({ showtimeId, required, generation }) {
      await deps.booking.setAdmissionRequired({ showtimeId, required, generation: BigInt(generation) });
      logger.info({ showtimeId, required, generation }, "booking told whether holds need an admission token");
    },
    async openRoom({ showtimeId }) {
      const room = (await repo.open(showtimeId)) ?? gone(showtimeId);
      logger.info({ showtimeId, queued: room.lastPosition }, "waiting room open: pre-queue shuffled");
      return snapshotOf(room);
    },
    async advance({ showtimeId, target }) {
      const room = (await repo.advance(showtimeId, target)) ?? gone(showtimeId);
      return snapshotOf(room);
    },
    async closeRoom({ showtimeId }) {
      const room = await repo.close(showtimeId);
      logger.info({ showtimeId }, "waiting room closed");
      return room && snapshotOf(room);
    },
  };
}
