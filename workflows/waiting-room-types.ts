/**
 * The waiting room's gate workflow (waiting-room.ts) and the admission service's activities it
 * calls: types, the workflow id and the one signal. Imported by workflow code and by the
 * admission service (defineSignal is a plain value, safe outside a workflow).
 */
import { defineSignal } from "@temporalio/workflow";

export const WAITING_ROOM_WORKFLOW = "waitingRoomWorkflow";

/** One gate workflow per on-sale: starting it again while it runs is a no-op (signal-with-start). */
export function waitingRoomWorkflowId(showtimeId: string): string {
  return `waiting-room-${showtimeId}`;
}

/**
 * An admin changed the room (rate, cap, on-sale time, off): the workflow re-reads it now rather
 * than at its next tick. One signal per admin change, never one per buyer.
 */
export const roomChangedSignal = defineSignal<[]>("roomChanged");

export interface WaitingRoomInput {
  showtimeId: string;
  /** Pause between admission steps, in ms. */
  tickMs: number;
  /** Continue as new after this many steps (keeps the history short). */
  stepsPerRun: number;
  /** Carried over by continue-as-new: the rate's reference point (see RateBase). */
  base?: RateBase;
}

/**
 * The serving number the rate allows at workflow time t is
 * `number + floor((t − atMs) × ratePerMinute / 60000)`: computed by the workflow from its own
 * (deterministic) clock, so the rate is exact whatever the activities' latency. The base moves
 * when the rate changes, when the queue ran dry (admissions do not pile up while nobody waits)
 * and after a gap (a worker that was down does not admit a burst when it comes back).
 */
export interface RateBase {
  number: number;
  atMs: number;
  ratePerMinute: number;
}

/** The room as the workflow needs it. */
export interface RoomSnapshot {
  /** False once the admin switched it off. */
  enabled: boolean;
  state: "scheduled" | "open" | "closed";
  onSaleAtMs: number;
  /** When the show starts: the room closes then. */
  showtimeStartsAtMs: number;
  ratePerMinute: number;
  maxActiveBuyers: number;
  servingNumber: number;
  lastPosition: number;
  /** Increases with every admin change (booking ignores gate calls of an older generation). */
  generation: number;
}

export interface AdmissionActivities {
  /** The room's row; undefined when it does not exist (the workflow ends). */
  readRoom(input: { showtimeId: string }): Promise<RoomSnapshot | undefined>;
  /** Tells booking whether holds of the showtime need a token (SetAdmissionRequired). */
  setGate(input: { showtimeId: string; required: boolean; generation: number }): Promise<void>;
  /**
   * Opens the room: the pre-queue gets positions 1..N in random order, later joins go to the back.
   * Idempotent (a room already open is returned as it is).
   */
  openRoom(input: { showtimeId: string }): Promise<RoomSnapshot>;
  /**
   * Moves the serving number up to `target` (rate mode) or by the cap's free slots (`target`
   * undefined), never past the back of the queue, marking those entries admitted, and notifies
   * the watchers. Never moves it back.
   */
  advance(input: { showtimeId: string; target?: number }): Promise<RoomSnapshot>;
  /** Marks the room closed (switched off or the show started). */
  closeRoom(input: { showtimeId: string }): Promise<RoomSnapshot | undefined>;
}
