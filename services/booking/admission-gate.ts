import type { AdmissionTokens } from "../../lib/admission-tokens.js";
import { isAdmin, type Caller } from "../../lib/context.js";
import type { Knex } from "../../lib/db.js";

/**
 * The waiting rooms' gate in booking: which showtimes need an admission token to hold seats
 * (table `admission_gates`, set by the admission service's gate workflow through
 * SetAdmissionRequired), and the token check itself (lib/admission-tokens.ts).
 */
export class AdmissionGate {
  constructor(
    private readonly db: Knex,
    private readonly tokens: AdmissionTokens,
  ) {}

  /**
   * Records whether holds of the showtime need a token, unless a newer generation is stored
   * already (a late retry of an older setting changes nothing). Returns what is in force.
   */
  async set(showtimeId: string, required: boolean, generation: number): Promise<{ required: boolean; generation: number }> {
    const rows: Array<{ required: boolean; generation: string }> = await this.db("admission_gates")
      .insert({ showtime_id: showtimeId, required, generation })
      .onConflict("showtime_id")
      .merge({ required, generation, updated_at: this.db.fn.now() })
      .where("admission_gates.generation", "<=", generation)
      .returning(["required", "generation"]);
    const row = rows[0] ?? (await this.db("admission_gates").where({ showtime_id: showtimeId }).first("required", "generation"));
    return { required: row.required, generation: Number(row.generation) };
  }

  /** True while the showtime's waiting room is on. */
  async required(showtimeId: string): Promise<boolean> {
    const row: { required: boolean } | undefined = await this.db("admission_gates").where({ showtime_id: showtimeId }).first("required");
    return row?.required ?? false;
  }

  /**
   * The check of ReserveSeats and ReserveBestSeats, before the hold: while the showtime's room is
   * on, the hold needs a valid admission token of `holderId` for this showtime, else 403 saying
   * how to queue (lib/admission-tokens.ts). Admins and services (holding on a customer's behalf)
   * are not queued. True when the hold was let in by a valid token (its rate is then counted per
   * user only: hold-limits.ts), false when the showtime has no room on or the caller is not queued.
   */
  async require(caller: Caller, holderId: string, showtimeId: string, token: string): Promise<boolean> {
    if (caller.kind === "service" || isAdmin(caller)) return false;
    if (!(await this.required(showtimeId))) return false;
    await this.tokens.require(holderId, showtimeId, token);
    return true;
  }
}
