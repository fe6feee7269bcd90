import type { KeyObject } from "node:crypto";
import type { SigningKeysRepo, StoredKey } from "./db/keys.js";
import { keyIdOfPayload, verifyPayload, type Verification } from "./domain/signing.js";

/** Least time between two reloads of the keys caused by payloads naming a key this process does not know. */
export const UNKNOWN_KEY_RELOAD_INTERVAL_MS = 2_000;

/**
 * The signing keys in memory, by id (docs/adr/0009-tickets.md "Keys and rotation"):
 *
 * - Verifying a payload whose key id is unknown here reloads the keys from the database (another
 *   replica may have rotated), at most once per UNKNOWN_KEY_RELOAD_INTERVAL_MS, so a stream of
 *   forged key ids costs one small query per interval, not one per scan.
 * - Signing asks the database which key is active, every time (issuing is rare, once per
 *   confirmed booking), so a replica never keeps signing with a key another replica retired.
 */
export class Keyring {
  private keys = new Map<string, StoredKey>();
  private lastUnknownReload = Number.NEGATIVE_INFINITY;
  private loading?: Promise<void>;

  constructor(
    private readonly repo: SigningKeysRepo,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Makes sure a key is active (the first start generates one) and loads every key. */
  async start(): Promise<void> {
    await this.repo.ensureActive();
    await this.reload();
  }

  /** Reloads every key; concurrent callers share one query. */
  reload(): Promise<void> {
    this.loading ??= this.repo
      .all()
      .then((all) => {
        for (const k of all) this.keys.set(k.keyId, k);
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  publicKey(keyId: string): KeyObject | undefined {
    return this.keys.get(keyId)?.publicKey;
  }

  /** The key new tickets are signed with, as the database says now. */
  async activeKey(): Promise<StoredKey> {
    const keyId = await this.repo.activeKeyId();
    if (!keyId) throw new Error("no active signing key (the service makes one at start)");
    let key = this.keys.get(keyId);
    if (!key) {
      key = await this.repo.byId(keyId);
      if (!key) throw new Error(`active signing key ${keyId} vanished`);
      this.keys.set(keyId, key);
    }
    return key;
  }

  /** Verifies a payload; a key id not known here triggers a (throttled) reload first. */
  async verify(payload: string): Promise<Verification> {
    const keyId = keyIdOfPayload(payload);
    if (keyId !== undefined && !this.keys.has(keyId) && this.now() - this.lastUnknownReload >= UNKNOWN_KEY_RELOAD_INTERVAL_MS) {
      this.lastUnknownReload = this.now();
      await this.reload();
    }
    return verifyPayload(payload, (id) => this.publicKey(id));
  }

  /** Rotates (SigningKeysRepo.rotate) and knows the new key at once. */
  async rotate(): Promise<StoredKey> {
    const key = await this.repo.rotate();
    for (const k of this.keys.values()) if (k.active) this.keys.set(k.keyId, { ...k, active: false });
    this.keys.set(key.keyId, key);
    return key;
  }
}
