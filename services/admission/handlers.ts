import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError, type Client, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { Client as TemporalClient } from "@temporalio/client";
import { WorkflowIdReusePolicy } from "@temporalio/common";
import {
  AdmissionService,
  type QueueEntrySchema,
  type WaitingRoomSchema,
  type WatchMyQueueEntryResponseSchema,
} from "../../gen/ticketing/admission/v1/admission_pb.js";
import type { BookingService } from "../../gen/ticketing/booking/v1/booking_pb.js";
import type { CatalogService } from "../../gen/ticketing/catalog/v1/catalog_pb.js";
import type { AdmissionTokens } from "../../lib/admission-tokens.js";
import { callerOf } from "../../lib/context.js";
import { AppError, conflict, failedPrecondition, invalidArgument, notFound, permissionDenied } from "../../lib/errors.js";
import { JoinGate } from "./domain/join-gate.js";
import type { Logger } from "../../lib/logger.js";
import { roomChangedSignal, WAITING_ROOM_WORKFLOW, waitingRoomWorkflowId, type WaitingRoomInput } from "../../workflows/waiting-room-types.js";
import { OnSaleTimeFixedError, type AdmissionRepo } from "./db/repo.js";
import { effectiveState, viewEntry, type Entry, type Room } from "./domain/room.js";
import type { RoomHub } from "./room-hub.js";

/** The admission window when ConfigureWaitingRoom leaves it at 0. */
export const DEFAULT_WINDOW_SECONDS = 600;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AdmissionDeps {
  repo: AdmissionRepo;
  hub: RoomHub;
  tokens: AdmissionTokens;
  /** The catalog with this service's credential: GetShowtime (when the show starts). */
  catalog: Pick<Client<typeof CatalogService>, "getShowtime">;
  /** Starts and signals the gate workflows. */
  temporal: TemporalClient;
  /** The gate workflows' queue and tuning. */
  workflow: { taskQueue: string; tickMs: number; stepsPerRun: number };
  logger: Logger;
  now?: () => Date;
  /**
   * Booking, told at once when a room is switched on (the gate workflow tells it too, durably):
   * so that the admin's PUT answers only once holds need a token. Absent in tests of the service alone.
   */
  booking?: Pick<Client<typeof BookingService>, "setAdmissionRequired">;
  /** Most joins this process works on at once (ADMISSION_MAX_JOINS_IN_FLIGHT); past it 429. */
  maxJoinsInFlight?: number;
}

export function roomOut(room: Room): MessageInitShape<typeof WaitingRoomSchema> {
  return {
    showtimeId: room.showtimeId,
    enabled: room.enabled,
    onSaleAt: timestampFromDate(room.onSaleAt),
    admissionRatePerMinute: room.ratePerMinute,
    maxActiveBuyers: room.maxActiveBuyers,
    admissionWindowSeconds: room.windowSeconds,
    state: effectiveState(room),
    servingNumber: BigInt(room.servingNumber),
    queueLength: BigInt(room.lastPosition),
  };
}

export function admissionHandlers(deps: AdmissionDeps): ServiceImpl<typeof AdmissionService> {
  const { repo, hub, tokens, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const door = new JoinGate(deps.maxJoinsInFlight ?? 64);

  /** The entry as sent, with a freshly signed token while the buyer's window is open. */
  async function entryOut(room: Room, entry: Entry): Promise<MessageInitShape<typeof QueueEntrySchema>> {
    const v = viewEntry(room, entry, now());
    const token = v.status === "admitted" && v.admissionExpiresAt
      ? await tokens.sign({ userId: entry.userId, showtimeId: entry.showtimeId, expiresAt: v.admissionExpiresAt })
      : "";
    return {
      showtimeId: entry.showtimeId,
      status: v.status,
      position: BigInt(v.position),
      ahead: BigInt(v.ahead),
      estimatedWaitSeconds: v.estimatedWaitSeconds,
      admissionToken: token,
      admissionExpiresAt: v.admissionExpiresAt && timestampFromDate(v.admissionExpiresAt),
      joinedAt: timestampFromDate(entry.joinedAt),
    };
  }

  async function join(showtimeId: string, userId: string): Promise<{ entry: MessageInitShape<typeof QueueEntrySchema> }> {
    // a repeated join (another tab, a refresh) reads its place without locking the room
    const known = await repo.getEntry(showtimeId, userId);
    if (known) return { entry: await entryOut(await roomOrNotFound(showtimeId), known) };
    const joined = await repo.join(showtimeId, userId);
    if (!joined) throw notFound("waiting room of showtime", showtimeId);
    if (!joined.entry) throw conflict(`the waiting room of showtime ${showtimeId} is off: reserve seats without an admission token`);
    return { entry: await entryOut(joined.room, joined.entry) };
  }

  function buyerOf(ctx: HandlerContext): string {
    const caller = callerOf(ctx);
    if (caller.kind !== "user") throw permissionDenied("a waiting room place belongs to a signed-in user");
    return caller.userId;
  }

  async function roomOrNotFound(showtimeId: string): Promise<Room> {
    const room = await repo.getRoom(showtimeId);
    if (!room) throw notFound("waiting room of showtime", showtimeId);
    return room;
  }

  async function mine(showtimeId: string, userId: string): Promise<{ room: Room; entry: Entry }> {
    const room = await roomOrNotFound(showtimeId);
    const entry = await repo.getEntry(showtimeId, userId);
    if (!entry) throw notFound(`your place in the waiting room (join it with POST /api/v1/showtimes/${showtimeId}/waiting-room/entries) of showtime`, showtimeId);
    return { room, entry };
  }

  /** When the show starts, from the catalog. */
  async function showtimeStart(showtimeId: string): Promise<Date> {
    const res = await deps.catalog.getShowtime({ showtimeId }).catch((err: unknown) => {
      const ce = ConnectError.from(err);
      if (ce.code === Code.NotFound) throw notFound("showtime", showtimeId);
      logger.error({ err, showtimeId }, "catalog GetShowtime failed");
      throw new AppError(Code.Unavailable, "the catalog cannot be reached right now; try again");
    });
    if (!res.showtime?.timestamp) throw notFound("showtime", showtimeId);
    return timestampDate(res.showtime.timestamp);
  }

  /** Starts the room's workflow if it does not run (a closed run is replaced), and tells it of the change. */
  async function kickWorkflow(showtimeId: string): Promise<void> {
    const input: WaitingRoomInput = { showtimeId, tickMs: deps.workflow.tickMs, stepsPerRun: deps.workflow.stepsPerRun };
    await deps.temporal.workflow
      .signalWithStart(WAITING_ROOM_WORKFLOW, {
        workflowId: waitingRoomWorkflowId(showtimeId),
        taskQueue: deps.workflow.taskQueue,
        args: [input],
        signal: roomChangedSignal,
        signalArgs: [],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      })
      .catch((err: unknown) => {
        logger.error({ err, showtimeId }, "cannot start or signal the waiting room's workflow");
        throw new AppError(Code.Unavailable, "the waiting room is saved but its workflow cannot be reached right now; repeat the request");
      });
  }

  return {
    async configureWaitingRoom(req) {
      const existing = await repo.getRoom(req.showtimeId);
      let room: Room;
      if (!req.enabled) {
        if (!existing) throw notFound("waiting room of showtime", req.showtimeId);
        room = await repo.configure({ ...existing, enabled: false });
      } else {
        if (!req.onSaleAt) throw invalidArgument("onSaleAt", "is required when enabling the room");
        const startsAt = await showtimeStart(req.showtimeId);
        if (startsAt <= now()) throw failedPrecondition("showtimeId: the showtime has already started");
        const onSaleAt = timestampDate(req.onSaleAt);
        if (onSaleAt >= startsAt) throw invalidArgument("onSaleAt", "must be before the showtime starts");
        try {
          room = await repo.configure({
            showtimeId: req.showtimeId,
            enabled: true,
            onSaleAt,
            showtimeStartsAt: startsAt,
            ratePerMinute: req.admissionRatePerMinute,
            maxActiveBuyers: req.maxActiveBuyers,
            windowSeconds: req.admissionWindowSeconds || DEFAULT_WINDOW_SECONDS,
          });
        } catch (err) {
          if (err instanceof OnSaleTimeFixedError) throw failedPrecondition("onSaleAt: the room has opened; its on-sale time can no longer change");
          throw err;
        }
      }
      // the off switch goes through the workflow too: it turns booking's gate off, durably
      await kickWorkflow(req.showtimeId);
      if (room.enabled && deps.booking) {
        // the workflow sets the gate too, durably (the generation orders the two); this makes the
        // PUT's answer mean that holds need a token from now on
        await deps.booking
          .setAdmissionRequired({ showtimeId: req.showtimeId, required: true, generation: BigInt(room.generation) })
          .catch((err: unknown) => logger.warn({ err, showtimeId: req.showtimeId }, "booking not told at once; the room's workflow will tell it"));
      }
      logger.info({ showtimeId: req.showtimeId, enabled: room.enabled, generation: room.generation }, "waiting room configured");
      return { room: roomOut(room) };
    },

    async getWaitingRoom(req) {
      return { room: roomOut(await roomOrNotFound(req.showtimeId)) };
    },

    async joinWaitingRoom(req, ctx) {
      const userId = buyerOf(ctx);
      return door.run(() => join(req.showtimeId, userId));
    },

    async getMyQueueEntry(req, ctx) {
      const { room, entry } = await mine(req.showtimeId, buyerOf(ctx));
      return { entry: await entryOut(room, entry) };
    },

    async *watchMyQueueEntry(req, ctx): AsyncGenerator<MessageInitShape<typeof WatchMyQueueEntryResponseSchema>> {
      // streams skip the validation interceptor: check here what the contract says
      if (!UUID.test(req.showtimeId)) throw invalidArgument("showtimeId", "value must be a valid UUID");
      const userId = buyerOf(ctx);
      // listening before the first read: no step can fall in between
      const watch = await hub.watch(req.showtimeId);
      try {
        let { room, entry } = await mine(req.showtimeId, userId);
        let last = "";
        const send = async () => {
          const out = await entryOut(room, entry);
          const key = `${out.status}:${out.position}:${out.ahead}`;
          const changed = key !== last;
          last = key;
          return { out, changed };
        };
        const first = await send();
        yield { entry: first.out };
        if (first.out.status !== "waiting" && first.out.status !== "prequeue") return;
        for await (const next of watch.rooms(ctx.signal)) {
          room = next;
          // the buyer's own row is read only when it changed: numbered at the opening, admitted
          const numbered = entry.position === null && room.state !== "scheduled";
          const admitted = entry.position !== null && entry.position <= room.servingNumber && !entry.admittedAt;
          if (numbered || admitted) entry = (await repo.getEntry(req.showtimeId, userId)) ?? entry;
          const { out, changed } = await send();
          if (changed) yield { entry: out };
          if (out.status !== "waiting" && out.status !== "prequeue") return;
        }
      } catch (err) {
        // the client went away: nobody left to tell
        if (ctx.signal.aborted) return;
        throw err;
      } finally {
        watch.close();
      }
    },
  };
}
