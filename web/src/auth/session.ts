/**
 * The signed-in session, outside React so that the transport's interceptor can read it.
 *
 * - The access token lives in memory only (this object); a reload gets a new one.
 * - The refresh token is never visible to scripts: with the `X-Refresh-Cookie: 1` header the
 *   gateway keeps it in an httpOnly, SameSite=Strict cookie scoped to the users service's path,
 *   and leaves it out of the Login/Refresh answers. Refresh then sends an empty token and the
 *   gateway takes the cookie's.
 * - Refresh tokens rotate on every use and a reused one ends the session, so two tabs must not
 *   refresh with the same cookie at once: refreshes, logins and logouts are serialised across
 *   tabs with the Web Locks API (the second tab then sends the cookie the first one received),
 *   and a login or logout in one tab is told to the others (BroadcastChannel), which follow it.
 */
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { UsersService } from "../../../gen/ticketing/users/v1/users_pb";

export interface SignedInUser {
  userId: string;
  role: string;
  email: string;
  displayName: string;
}

export type SessionState =
  | { status: "loading" }
  | { status: "anonymous" }
  | { status: "signed-in"; user: SignedInUser };

/** Sent with Login, Refresh and Logout: keep the refresh token in the gateway's httpOnly cookie. */
export const REFRESH_COOKIE_HEADER = { "x-refresh-cookie": "1" };
/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 60_000;

interface Tokens {
  accessToken: string;
  expiresIn: number;
  userId: string;
  role: string;
}

export class Session {
  private state: SessionState = { status: "loading" };
  private token?: string;
  private refreshing?: Promise<string | undefined>;
  private timer?: ReturnType<typeof setTimeout>;
  private readonly listeners = new Set<() => void>();
  private readonly users;
  private readonly tabs?: BroadcastChannel;
  /**
   * Bumped by every login and logout: a refresh that was under way then must not sign the old
   * session back in (its answer can arrive after the logout).
   */
  private epoch = 0;

  /** `transport` must not carry this session's own interceptor (it calls Login/Refresh). */
  constructor(transport: Transport) {
    this.users = createClient(UsersService, transport);
    if (typeof BroadcastChannel !== "undefined") {
      this.tabs = new BroadcastChannel("ticketing-session");
      this.tabs.onmessage = (e: MessageEvent<TabMessage>) => {
        this.epoch++;
        if (e.data === "logged-out") this.clear();
        else void this.refresh(); // another tab logged in: take its session from the cookie
      };
    }
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  snapshot = (): SessionState => this.state;

  accessToken(): string | undefined {
    return this.token;
  }

  /** On start-up: resume the session the cookie holds, if any. */
  async resume(): Promise<void> {
    await this.refresh();
    if (this.state.status === "loading") this.set({ status: "anonymous" });
  }

  async login(email: string, password: string): Promise<void> {
    const epoch = ++this.epoch;
    const res = await this.withCrossTabLock(() => this.users.login({ email, password }, { headers: REFRESH_COOKIE_HEADER }));
    await this.signedIn(res, epoch);
    this.tabs?.postMessage("logged-in" satisfies TabMessage);
  }

  async register(input: { email: string; password: string; displayName: string; phone: string }): Promise<void> {
    await this.users.register(input);
    await this.login(input.email, input.password);
  }

  /**
   * Signs out here at once, then ends the session on the server (the gateway clears the cookie
   * whatever the answer). An access token that expired meanwhile is refreshed first, so that the
   * server-side session ends even then.
   */
  async logout(): Promise<void> {
    const token = this.token;
    this.epoch++;
    this.clear();
    this.tabs?.postMessage("logged-out" satisfies TabMessage);
    await this.withCrossTabLock(async () => {
      const end = (accessToken: string) =>
        this.users.logout({}, { headers: { ...REFRESH_COOKIE_HEADER, authorization: `Bearer ${accessToken}` } });
      try {
        if (token) return void (await end(token));
      } catch (err) {
        if (ConnectError.from(err).code !== Code.Unauthenticated) return;
      }
      try {
        const fresh = await this.users.refresh({ refreshToken: "" }, { headers: REFRESH_COOKIE_HEADER });
        await end(fresh.accessToken);
      } catch {
        // no session left to end
      }
    });
  }

  /**
   * A new access token from the cookie's refresh token (one refresh at a time, across tabs);
   * undefined when there is no session any more.
   */
  refresh(): Promise<string | undefined> {
    const epoch = this.epoch;
    this.refreshing ??= this.withCrossTabLock(async () => {
      if (epoch !== this.epoch) return this.token; // logged in or out meanwhile
      try {
        const res = await this.users.refresh({ refreshToken: "" }, { headers: REFRESH_COOKIE_HEADER });
        await this.signedIn(res, epoch);
        return this.token;
      } catch (err) {
        if (epoch !== this.epoch) return this.token;
        if (ConnectError.from(err).code === Code.Unauthenticated) this.clear();
        else if (this.state.status === "loading") this.set({ status: "anonymous" });
        return undefined;
      }
    }).finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async withCrossTabLock<T>(task: () => Promise<T>): Promise<T> {
    const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
    return locks ? locks.request("ticketing-session", task) : task();
  }

  /** Takes the tokens once the profile is known; nothing changes if GetMe fails or the epoch moved on. */
  private async signedIn(tokens: Tokens, epoch: number): Promise<void> {
    if (epoch !== this.epoch) return; // a logout or another login came after this started
    const previous = this.state.status === "signed-in" ? this.state.user : undefined;
    let profile = previous?.userId === tokens.userId ? previous : undefined;
    if (!profile) {
      const me = await this.users.getMe({}, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
      profile = { userId: me.userId, role: me.role, email: me.email, displayName: me.displayName };
      if (epoch !== this.epoch) return;
    }
    this.token = tokens.accessToken;
    clearTimeout(this.timer);
    const refreshInMs = Math.max(tokens.expiresIn * 1000 - REFRESH_MARGIN_MS, 10_000);
    this.timer = setTimeout(() => void this.refresh(), refreshInMs);
    this.set({ status: "signed-in", user: { ...profile, role: tokens.role } });
  }

  private clear(): void {
    this.token = undefined;
    clearTimeout(this.timer);
    this.set({ status: "anonymous" });
  }

  private set(state: SessionState): void {
    this.state = state;
    for (const listener of this.listeners) listener();
  }
}

/** What one tab tells the others. */
type TabMessage = "logged-in" | "logged-out";
