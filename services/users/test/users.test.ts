import { execFile } from "node:child_process";
import { generateKeyPairSync, createPublicKey } from "node:crypto";
import { resolve } from "node:path";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { SignJWT } from "jose";
import {
  LoginRequestSchema,
  LoginResponseSchema,
  GetMeRequestSchema,
  GetMeResponseSchema,
  type LoginResponse,
} from "../../../gen/ticketing/users/v1/users_pb.js";
import { serviceCredential } from "../../../lib/auth.js";
import { AUDIENCE, ISSUER, startUsers, TEST_SERVICE_SECRET, type UsersHarness } from "./harness.js";

let h: UsersHarness;
beforeAll(async () => {
  h = await startUsers();
});
afterAll(async () => {
  await h?.close();
});

const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

async function codeOf(p: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

async function registerAndLogin(email: string): Promise<LoginResponse> {
  await h.client.register({ email, password: "correct-horse", displayName: "Test User" });
  return h.client.login({ email, password: "correct-horse" });
}

describe("register", () => {
  it("creates a user account with the user role and a normalised email", async () => {
    const res = await h.client.register({ email: "Alice@Example.COM", password: "password-1", displayName: "Alice" });
    expect(res).toMatchObject({ email: "alice@example.com", displayName: "Alice", role: "user" });
    expect(res.userId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses a second account with the same email (any case) as already_exists", async () => {
    await h.client.register({ email: "dup@example.com", password: "password-1", displayName: "A" });
    const err = await h.client
      .register({ email: "DUP@example.com", password: "password-2", displayName: "B" })
      .catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.AlreadyExists);
    expect((err as ConnectError).rawMessage).toMatch(/email/);
  });

  it("rejects a weak password and a bad email, naming each field", async () => {
    const err = ConnectError.from(
      await h.client.register({ email: "not-an-email", password: "short", displayName: "X" }).catch((e: unknown) => e),
    );
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.rawMessage).toMatch(/email: /);
    expect(err.rawMessage).toMatch(/password: must be at least 8 characters/);
  });

  it("accepts only E.164 phone numbers", async () => {
    const bad = ConnectError.from(
      await h.client
        .register({ email: "phone@example.com", password: "password-1", displayName: "P", phone: "555-1234" })
        .catch((e: unknown) => e),
    );
    expect(bad.code).toBe(Code.InvalidArgument);
    expect(bad.rawMessage).toMatch(/^phone: /);
    const ok = await h.client.register({ email: "phone2@example.com", password: "password-1", displayName: "P", phone: "+14155550123" });
    expect(ok.userId).toBeTruthy();
  });
});

describe("login, me, refresh, logout", () => {
  it("logs in and returns the profile from /me", async () => {
    const login = await registerAndLogin("bob@example.com");
    expect(login.tokenType).toBe("Bearer");
    expect(login.expiresIn).toBe(900);
    expect(login.role).toBe("user");
    const me = await h.client.getMe({}, auth(login.accessToken));
    expect(me).toMatchObject({ userId: login.userId, email: "bob@example.com", role: "user" });
  });

  it("refuses a wrong password and an unknown email alike", async () => {
    await h.client.register({ email: "carol@example.com", password: "password-1", displayName: "C" });
    const wrong = ConnectError.from(await h.client.login({ email: "carol@example.com", password: "password-2" }).catch((e: unknown) => e));
    const unknown = ConnectError.from(await h.client.login({ email: "nobody@example.com", password: "password-2" }).catch((e: unknown) => e));
    expect(wrong.code).toBe(Code.Unauthenticated);
    expect(unknown.code).toBe(Code.Unauthenticated);
    expect(wrong.rawMessage).toBe(unknown.rawMessage);
  });

  it("updates the profile with PATCH semantics", async () => {
    const login = await registerAndLogin("dave@example.com");
    const a = await h.client.updateMe({ phone: "+442071234567" }, auth(login.accessToken));
    expect(a).toMatchObject({ displayName: "Test User", phone: "+442071234567" });
    const b = await h.client.updateMe({ displayName: "Dave" }, auth(login.accessToken));
    expect(b).toMatchObject({ displayName: "Dave", phone: "+442071234567" });
  });

  it("rotates refresh tokens: the old one stops working, and reusing it ends the session", async () => {
    const login = await registerAndLogin("erin@example.com");
    const next = await h.client.refresh({ refreshToken: login.refreshToken });
    expect(next.refreshToken).not.toBe(login.refreshToken);
    expect((await h.client.getMe({}, auth(next.accessToken))).email).toBe("erin@example.com");
    expect(await codeOf(h.client.refresh({ refreshToken: login.refreshToken }))).toBe(Code.Unauthenticated);
    // the reuse looked like theft, so the whole session (and its newest tokens) is revoked
    expect(await codeOf(h.client.refresh({ refreshToken: next.refreshToken }))).toBe(Code.Unauthenticated);
    expect(await codeOf(h.client.getMe({}, auth(next.accessToken)))).toBe(Code.Unauthenticated);
  });

  it("lets only one of two concurrent refreshes with the same token win", async () => {
    const login = await registerAndLogin("frank@example.com");
    const results = await Promise.all(
      Array.from({ length: 8 }, () => codeOf(h.client.refresh({ refreshToken: login.refreshToken }))),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
  });

  it("logout refuses the session's access token and refresh token from then on", async () => {
    const login = await registerAndLogin("grace@example.com");
    await h.client.logout({}, auth(login.accessToken));
    expect(await codeOf(h.client.getMe({}, auth(login.accessToken)))).toBe(Code.Unauthenticated);
    expect(await codeOf(h.client.refresh({ refreshToken: login.refreshToken }))).toBe(Code.Unauthenticated);
  });

  it("the bootstrap admin logs in with the admin role", async () => {
    const login = await h.client.login({ email: "admin@test.local", password: "admin-pass-1" });
    expect(login.role).toBe("admin");
  });
});

describe("roles", () => {
  it("an admin makes an account door staff: its next login carries the door role, which a token verifier accepts", async () => {
    const admin = await h.client.login({ email: "admin@test.local", password: "admin-pass-1" });
    const user = await registerAndLogin("door-1@example.com");
    const changed = await h.client.setUserRole({ userId: user.userId, role: "door" }, auth(admin.accessToken));
    expect(changed).toMatchObject({ userId: user.userId, email: "door-1@example.com", role: "door" });
    // the token issued before keeps its role until it expires; the next login has the new one
    expect((await h.client.getMe({}, auth(user.accessToken))).role).toBe("door");
    const again = await h.client.login({ email: "door-1@example.com", password: "correct-horse" });
    expect(again.role).toBe("door");
    const payload = JSON.parse(Buffer.from(again.accessToken.split(".")[1], "base64url").toString()) as { role: string };
    expect(payload.role).toBe("door");
    // and back
    await h.client.setUserRole({ userId: user.userId, role: "user" }, auth(admin.accessToken));
    expect((await h.client.login({ email: "door-1@example.com", password: "correct-horse" })).role).toBe("user");
  });

  it("only admins change roles; not their own; an unknown account is 404 and an unknown role 400", async () => {
    const admin = await h.client.login({ email: "admin@test.local", password: "admin-pass-1" });
    const user = await registerAndLogin("door-2@example.com");
    expect(await codeOf(h.client.setUserRole({ userId: user.userId, role: "admin" }, auth(user.accessToken)))).toBe(Code.PermissionDenied);
    expect(await codeOf(h.client.setUserRole({ userId: user.userId, role: "door" }))).toBe(Code.Unauthenticated);
    expect(await codeOf(h.client.setUserRole({ userId: admin.userId, role: "user" }, auth(admin.accessToken)))).toBe(Code.InvalidArgument);
    expect(await codeOf(h.client.setUserRole({ userId: "00000000-0000-4000-8000-000000000000", role: "door" }, auth(admin.accessToken)))).toBe(Code.NotFound);
    expect(await codeOf(h.client.setUserRole({ userId: user.userId, role: "superuser" }, auth(admin.accessToken)))).toBe(Code.InvalidArgument);
    expect((await h.client.login({ email: "door-2@example.com", password: "correct-horse" })).role).toBe("user");
  });
});

describe("token verification", () => {
  let valid: LoginResponse;
  let claims: { sub: string; sid: string };
  beforeAll(async () => {
    valid = await registerAndLogin("tokens@example.com");
    const payload = JSON.parse(Buffer.from(valid.accessToken.split(".")[1], "base64url").toString());
    claims = { sub: payload.sub, sid: payload.sid };
  });

  const sign = (key = h.privateKey, opts: { iss?: string; aud?: string; exp?: number | string } = {}) =>
    new SignJWT({ role: "admin", sid: claims.sid })
      .setProtectedHeader({ alg: "EdDSA" })
      .setSubject(claims.sub)
      .setIssuer(opts.iss ?? ISSUER)
      .setAudience(opts.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? "5m")
      .sign(key);

  it("accepts a correctly signed token (control case)", async () => {
    expect(await codeOf(h.client.getMe({}, auth(await sign())))).toBe("ok");
  });

  it("refuses alg none", async () => {
    const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const token = `${enc({ alg: "none", typ: "JWT" })}.${enc({ sub: claims.sub, sid: claims.sid, role: "admin", iss: ISSUER, aud: AUDIENCE, exp: now + 300 })}.`;
    expect(await codeOf(h.client.getMe({}, auth(token)))).toBe(Code.Unauthenticated);
  });

  it("refuses a wrong audience", async () => {
    expect(await codeOf(h.client.getMe({}, auth(await sign(undefined, { aud: "someone-else" }))))).toBe(Code.Unauthenticated);
  });

  it("refuses a wrong issuer", async () => {
    expect(await codeOf(h.client.getMe({}, auth(await sign(undefined, { iss: "evil" }))))).toBe(Code.Unauthenticated);
  });

  it("refuses an expired token", async () => {
    const exp = Math.floor(Date.now() / 1000) - 120;
    expect(await codeOf(h.client.getMe({}, auth(await sign(undefined, { exp }))))).toBe(Code.Unauthenticated);
  });

  it("refuses a token signed with another key", async () => {
    const other = generateKeyPairSync("ed25519").privateKey;
    expect(await codeOf(h.client.getMe({}, auth(await sign(other))))).toBe(Code.Unauthenticated);
  });

  it("refuses an HS256 token keyed with the public key (algorithm confusion)", async () => {
    const pub = createPublicKey(h.privateKey).export({ format: "pem", type: "spki" });
    const token = await new SignJWT({ role: "admin", sid: claims.sid })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(claims.sub)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(String(pub)));
    expect(await codeOf(h.client.getMe({}, auth(token)))).toBe(Code.Unauthenticated);
  });

  it("refuses a garbage bearer token and a non-bearer scheme", async () => {
    expect(await codeOf(h.client.getMe({}, auth("not.a.jwt")))).toBe(Code.Unauthenticated);
    expect(await codeOf(h.client.getMe({}, { headers: { authorization: "Basic Zm9vOmJhcg==" } }))).toBe(Code.Unauthenticated);
  });

  it("keeps internal RPCs for service credentials: users and admins get permission_denied", async () => {
    const admin = await h.client.login({ email: "admin@test.local", password: "admin-pass-1" });
    expect(await codeOf(h.client.getUser({ userId: valid.userId }, auth(admin.accessToken)))).toBe(Code.PermissionDenied);
    expect(await codeOf(h.client.getUser({ userId: valid.userId }))).toBe(Code.Unauthenticated);
    const svc = await serviceCredential(TEST_SERVICE_SECRET, "notifications")();
    const user = await h.client.getUser({ userId: valid.userId }, auth(svc));
    expect(user.user?.email).toBe("tokens@example.com");
    const forged = await serviceCredential("wrong-secret", "notifications")();
    expect(await codeOf(h.client.getUser({ userId: valid.userId }, auth(forged)))).toBe(Code.Unauthenticated);
  });
});

describe("a plain @grpc/grpc-js client", () => {
  it("logs in and reads /me over gRPC with no Connect code on the client side", async () => {
    await h.client.register({ email: "grpc@example.com", password: "password-1", displayName: "G" });
    const client = new grpc.Client(`127.0.0.1:${h.port}`, grpc.credentials.createInsecure());
    try {
      const unary = <Req, Res>(path: string, req: Req, ser: (r: Req) => Buffer, de: (b: Buffer) => Res, md = new grpc.Metadata()) =>
        new Promise<Res>((resolve, reject) =>
          client.makeUnaryRequest(path, ser, de, req, md, (err, res) => (err ? reject(err) : resolve(res as Res))),
        );
      const login = await unary(
        "/ticketing.users.v1.UsersService/Login",
        create(LoginRequestSchema, { email: "grpc@example.com", password: "password-1" }),
        (m) => Buffer.from(toBinary(LoginRequestSchema, m)),
        (b) => fromBinary(LoginResponseSchema, b),
      );
      expect(login.accessToken).toBeTruthy();
      const md = new grpc.Metadata();
      md.set("authorization", `Bearer ${login.accessToken}`);
      const me = await unary(
        "/ticketing.users.v1.UsersService/GetMe",
        create(GetMeRequestSchema, {}),
        (m) => Buffer.from(toBinary(GetMeRequestSchema, m)),
        (b) => fromBinary(GetMeResponseSchema, b),
        md,
      );
      expect(me.email).toBe("grpc@example.com");
      const denied = await unary(
        "/ticketing.users.v1.UsersService/GetMe",
        create(GetMeRequestSchema, {}),
        (m) => Buffer.from(toBinary(GetMeRequestSchema, m)),
        (b) => fromBinary(GetMeResponseSchema, b),
      ).catch((e: grpc.ServiceError) => e);
      expect((denied as grpc.ServiceError).code).toBe(grpc.status.UNAUTHENTICATED);
    } finally {
      client.close();
    }
  });
});

describe("a client not written here: buf curl over gRPC", () => {
  it("registers and logs in with `buf curl --protocol grpc --http2-prior-knowledge --schema proto`", async () => {
    const root = resolve(__dirname, "../../..");
    const bufCurl = (method: string, body: object) =>
      new Promise<string>((ok, fail) =>
        execFile(
          resolve(root, "node_modules/.bin/buf"),
          ["curl", "--protocol", "grpc", "--http2-prior-knowledge", "--schema", "proto", "-d", JSON.stringify(body), `${h.url}/ticketing.users.v1.UsersService/${method}`],
          { cwd: root, timeout: 30_000 },
          (err, stdout, stderr) => (err ? fail(new Error(`${err.message}\n${stderr}`)) : ok(stdout)),
        ),
      );
    const reg = JSON.parse(await bufCurl("Register", { email: "bufcurl@example.com", password: "password-1", displayName: "Buf" }));
    expect(reg).toMatchObject({ email: "bufcurl@example.com", role: "user" });
    const login = JSON.parse(await bufCurl("Login", { email: "bufcurl@example.com", password: "password-1" }));
    expect(login.userId).toBe(reg.userId);
    expect(login.tokenType).toBe("Bearer");
  });
});
