/**
 * The gate workflow of a waiting room: one per on-sale, id `waiting-room-<showtimeId>`, run by
 * the admission service's own worker on its own queue, its activities local to that worker (next
 * to the room's rows, as booking runs its workflow: docs/adr/0005). Every buyer's place is in
 * Postgres, not here: the workflow only moves the room's serving number, so its history does not
 * grow with the crowd and no buyer ever signals it (docs/adr/0007-waiting-room.md).
 *
 *   start ──▶ gate on (booking needs tokens) ──timer: on-sale time──▶ open (shuffle the pre-queue)
 *     ──▶ every tick: advance the serving number (rate: from workflow time; cap: free slots)
 *     ──▶ room off or show started ──▶ close, gate off
 *
 * Timers are durable: a worker restart loses nothing (the next worker resumes from the history,
 * and the room's rows are where they were). It continues as new every `stepsPerRun` steps. An
 * admin's change is read at the next tick, or at once when ConfigureWaitingRoom signals it.
 */
import { condition, continueAsNew, proxyLocalActivities, setHandler, workflowInfo } from "@temporalio/workflow";
import { roomChangedSignal, type AdmissionActivities, type RateBase, type RoomSnapshot, type WaitingRoomInput } from "./waiting-room-types";

/**
 * After a pause this long (a worker was down), the rate restarts from now rather than admitting
 * the whole pause's worth at once: five ticks, and never less than 10 s (a busy worker's steps
 * come late without that being a gap).
 */
const gapMs = (tickMs: number) => Math.max(5 * tickMs, 10_000);

export interface WaitingRoomResult {
  servingNumber: number;
  reason: "switched off" | "show started" | "no room";
}

export async function waitingRoomWorkflow(input: WaitingRoomInput): Promise<WaitingRoomResult> {
  const { showtimeId, tickMs } = input;
  // local activities: they run in the worker that runs the workflow (the admission service), and
  // a step costs one workflow task instead of three round trips through the task queue
  const act = proxyLocalActivities<AdmissionActivities>({
    startToCloseTimeout: "30 seconds",
    // the room's rows and booking's gate must end up right: retry until it works
    retry: { initialInterval: "1 second", maximumInterval: "30 seconds" },
  });
  let changed = false;
  setHandler(roomChangedSignal, () => void (changed = true));
  /** Waits `ms` or until an admin changes the room. */
  const pause = async (ms: number) => {
    if (ms > 0 && !changed) await condition(() => changed, ms);
    changed = false;
  };
  const over = (room: RoomSnapshot) => !room.enabled || room.state === "closed" || Date.now() >= room.showtimeStartsAtMs;
  const close = async (room: RoomSnapshot): Promise<WaitingRoomResult> => {
    const closed = (await act.closeRoom({ showtimeId })) ?? room;
    await act.setGate({ showtimeId, required: false, generation: closed.generation });
    return { servingNumber: closed.servingNumber, reason: room.enabled ? "show started" : "switched off" };
  };

  let room = await act.readRoom({ showtimeId });
  if (!room) return { servingNumber: 0, reason: "no room" };
  if (over(room)) return close(room);
  // from the moment the room is on, before the on-sale time too, holds need a token
  await act.setGate({ showtimeId, required: true, generation: room.generation });

  while (room.state === "scheduled") {
    const wait = room.onSaleAtMs - Date.now();
    if (wait <= 0) {
      room = await act.openRoom({ showtimeId });
      break;
    }
    await pause(wait);
    room = (await act.readRoom({ showtimeId })) ?? room;
    if (over(room)) return close(room);
  }

  let base: RateBase = input.base ?? { number: room.servingNumber, atMs: Date.now(), ratePerMinute: room.ratePerMinute };
  let lastStepMs = Date.now();
  for (let step = 0; ; step++) {
    if (step >= input.stepsPerRun || workflowInfo().continueAsNewSuggested) {
      return continueAsNew<typeof waitingRoomWorkflow>({ ...input, base });
    }
    await pause(tickMs);
    const now = Date.now();
    if (now - lastStepMs > gapMs(tickMs)) base = { number: room.servingNumber, atMs: now - tickMs, ratePerMinute: base.ratePerMinute };
    lastStepMs = now;
    const target = base.ratePerMinute > 0 ? base.number + Math.floor(((now - base.atMs) * base.ratePerMinute) / 60_000) : undefined;
    room = await act.advance({ showtimeId, target });
    if (over(room)) return close(room);
    // the queue ran dry (no admissions banked for later arrivals), or the rate changed: restart from here
    if (room.ratePerMinute !== base.ratePerMinute || (target !== undefined && room.servingNumber < target)) {
      base = { number: room.servingNumber, atMs: now, ratePerMinute: room.ratePerMinute };
    }
  }
}
