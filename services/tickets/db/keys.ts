import type { Knex } from "../../../lib/db.js";
import { generateSigningKey, privateKeyFromPem, publicKeyFromRaw, type SigningKeyPair } from "../domain/signing.js";

interface KeyRow {
  key_id: string;
  public_key: Buffer;
  private_key: string;
  active: boolean;
  created_at: Date;
}

export interface StoredKey extends SigningKeyPair {
  active: boolean;
  createdAt: Date;
}

/** What the public listing shows of a key: never the private half. */
export interface PublicKeyInfo {
  keyId: string;
  publicKeyRaw: Uint8Array;
  active: boolean;
  createdAt: Date;
}

function keyOf(r: KeyRow): StoredKey {
  const publicKeyRaw = new Uint8Array(r.public_key);
  return {
    keyId: r.key_id,
    publicKeyRaw,
    publicKey: publicKeyFromRaw(publicKeyRaw),
    privateKey: privateKeyFromPem(r.private_key),
    active: r.active,
    createdAt: r.created_at,
  };
}

const UNIQUE_VIOLATION = "23505";

/** The signing keys' table (migrations.ts). */
export class SigningKeysRepo {
  constructor(readonly db: Knex) {}

  async all(): Promise<StoredKey[]> {
    const rows: KeyRow[] = await this.db("signing_keys").orderBy("created_at").orderBy("key_id");
    return rows.map(keyOf);
  }

  /** Every key's public half, oldest first, without reading (or parsing) a private key. */
  async publicKeys(): Promise<PublicKeyInfo[]> {
    const rows: Array<Omit<KeyRow, "private_key">> = await this.db("signing_keys")
      .select("key_id", "public_key", "active", "created_at")
      .orderBy("created_at")
      .orderBy("key_id");
    return rows.map((r) => ({ keyId: r.key_id, publicKeyRaw: new Uint8Array(r.public_key), active: r.active, createdAt: r.created_at }));
  }

  async byId(keyId: string): Promise<StoredKey | undefined> {
    const row: KeyRow | undefined = await this.db("signing_keys").where({ key_id: keyId }).first();
    return row && keyOf(row);
  }

  async activeKeyId(): Promise<string | undefined> {
    const row: { key_id: string } | undefined = await this.db("signing_keys").where({ active: true }).first("key_id");
    return row?.key_id;
  }

  /**
   * Makes a first key active when there is none. Replicas starting together each try: the one
   * active key's index lets one insert through and the others' do nothing.
   */
  async ensureActive(): Promise<void> {
    if (await this.activeKeyId()) return;
    const k = generateSigningKey();
    await this.db.raw(
      `INSERT INTO signing_keys (key_id, public_key, private_key, active) VALUES (?, ?, ?, true)
       ON CONFLICT (active) WHERE active DO NOTHING`,
      [k.keyId, Buffer.from(k.publicKeyRaw), k.privateKeyPem],
    );
  }

  /**
   * Retires the active key from signing and makes a new one active, in one transaction. Two
   * rotations at once: the second finds the first's key active when it inserts (the index
   * refuses a second active key) and starts again, retiring that one.
   */
  async rotate(): Promise<StoredKey> {
    for (let attempt = 1; ; attempt++) {
      const k = generateSigningKey();
      try {
        return await this.db.transaction(async (trx) => {
          await trx("signing_keys").where({ active: true }).update({ active: false });
          const [row]: KeyRow[] = await trx("signing_keys")
            .insert({ key_id: k.keyId, public_key: Buffer.from(k.publicKeyRaw), private_key: k.privateKeyPem, active: true })
            .returning("*");
          return keyOf(row);
        });
      } catch (err) {
        if ((err as { code?: string }).code !== UNIQUE_VIOLATION || attempt >= 5) throw err;
      }
    }
  }
}
