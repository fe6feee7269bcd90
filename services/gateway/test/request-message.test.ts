import { create, toJson, type DescMessage, type JsonValue, type Message } from "@bufbuild/protobuf";
import { GetMeResponseSchema, RegisterRequestSchema, RegisterResponseSchema, UpdateMeRequestSchema, UsersService } from "../../../gen/ticketing/users/v1/users_pb.js";
import { HttpError } from "../http-io.js";
import { buildRequestMessage, decodeRequest, parseJsonBody, queryToJson, responseJson, withExplicitNulls } from "../request-message.js";
import { RestRouter } from "../transcoder.js";
import { EchoRequestSchema, EchoResponseSchema, EchoService } from "./echo-contract.js";

const router = new RestRouter([
  { service: EchoService, backend: "users" },
  { service: UsersService, backend: "users" },
]);

/** Builds the request of the route matching `method target`, as the gateway does. */
function build(method: string, target: string, body?: unknown, contentType = "application/json"): JsonValue {
  const [pathname, search = ""] = target.split("?");
  const route = router.route(method, pathname);
  if (route.kind !== "match") throw new Error(`no route: ${route.kind}`);
  const bytes = body === undefined ? new Uint8Array() : Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  const msg = buildRequestMessage(route.binding, {
    pathVariables: route.variables,
    query: new URLSearchParams(search),
    body: bytes,
    contentType,
  });
  return toJson(route.binding.method.input, msg);
}

function failure(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpError) return err;
    throw err;
  }
  throw new Error("expected an HttpError");
}

const badRequest = (fn: () => unknown) => {
  const err = failure(fn);
  expect(err.status).toBe(400);
  expect(err.code).toBe("invalid_argument");
  return err.message;
};

describe("REST request → message (users contract)", () => {
  it("body '*' is the whole request", () => {
    expect(build("POST", "/api/v1/auth/register", { email: "a@b.c", password: "12345678", displayName: "Ann" })).toEqual({
      email: "a@b.c",
      password: "12345678",
      displayName: "Ann",
    });
  });

  it("accepts proto field names too, and an empty body as {}", () => {
    expect(build("POST", "/api/v1/auth/register", { display_name: "Ann" })).toEqual({ displayName: "Ann" });
    expect(build("POST", "/api/v1/auth/logout")).toEqual({});
    expect(build("POST", "/api/v1/auth/logout", "  \n")).toEqual({});
  });

  it("keeps presence of optional fields (PATCH semantics)", () => {
    expect(build("PATCH", "/api/v1/me", { phone: "" })).toEqual({ phone: "" });
    expect(build("PATCH", "/api/v1/me", {})).toEqual({});
  });

  it("a wrong type is a 400 naming the field", () => {
    expect(badRequest(() => build("POST", "/api/v1/auth/register", { email: 5 }))).toBe("email: expected string, got 5");
    expect(badRequest(() => build("PATCH", "/api/v1/me", { displayName: ["x"] }))).toMatch(/^displayName: expected string/);
  });

  it("an unknown field is a 400 naming it", () => {
    expect(badRequest(() => build("POST", "/api/v1/auth/register", { email: "a@b.c", admin: true }))).toBe("admin: unknown field");
  });

  it("the same field under both names is refused", () => {
    expect(badRequest(() => build("POST", "/api/v1/auth/register", { displayName: "a", display_name: "b" }))).toMatch(/^displayName: given twice/);
  });

  it("malformed JSON, a non-object body, bad UTF-8 and a wrong content type are refused", () => {
    expect(badRequest(() => build("POST", "/api/v1/auth/register", '{"email": '))).toMatch(/^malformed JSON in request body: /);
    expect(badRequest(() => build("POST", "/api/v1/auth/register", "[1,2]"))).toBe("request body must be a JSON object, got array");
    expect(badRequest(() => build("POST", "/api/v1/auth/register", "null"))).toBe("request body must be a JSON object, got null");
    const route = router.route("POST", "/api/v1/auth/register");
    if (route.kind !== "match") throw new Error();
    const parts = { pathVariables: route.variables, query: new URLSearchParams() };
    expect(badRequest(() => buildRequestMessage(route.binding, { ...parts, body: Buffer.from([0x7b, 0xff, 0x7d]), contentType: undefined }))).toBe(
      "request body is not valid UTF-8",
    );
    const err = failure(() => build("POST", "/api/v1/auth/register", "email=a", "application/x-www-form-urlencoded"));
    expect(err.status).toBe(415);
    expect(err.message).toMatch(/unsupported content type application\/x-www-form-urlencoded/);
    expect(build("POST", "/api/v1/auth/login", { email: "a" }, "application/json; charset=utf-8")).toEqual({ email: "a" });
  });

  it("a GET takes no body, and body '*' takes no query parameters", () => {
    expect(badRequest(() => build("GET", "/api/v1/me", { x: 1 }))).toMatch(/takes no request body/);
    expect(badRequest(() => build("POST", "/api/v1/auth/login?email=a", {}))).toMatch(/query parameter "email" is not accepted/);
  });
});

describe("REST request → message (bindings)", () => {
  it("binds nested path variables and fills the rest from the query", () => {
    expect(build("GET", "/v1/shelves/s1/items/i%2F1?item.count=3&tags=a&tags=b&nums=1&nums=2&color=COLOR_RED&big=9007199254740993&flag=true&lat=1.5")).toEqual({
      shelfId: "s1",
      item: { id: "i/1", count: 3 },
      tags: ["a", "b"],
      nums: [1, 2],
      color: "COLOR_RED",
      big: "9007199254740993",
      flag: true,
      lat: 1.5,
    });
  });

  it("query parameters accept proto names, nested paths, enum numbers and lowercase names, RFC 3339 timestamps", () => {
    expect(build("GET", "/v1/shelves?shelf_id=s&filter.inner.id=x&filter.name=n&color=2&at=2025-06-01T19:30:00Z")).toEqual({
      shelfId: "s",
      filter: { name: "n", inner: { id: "x" } },
      color: "COLOR_GREEN",
      at: "2025-06-01T19:30:00Z",
    });
    expect(build("GET", "/v1/shelves?color=color_red")).toEqual({ color: "COLOR_RED" });
  });

  it("an empty query value leaves a number, bool, enum or timestamp unset, not a string", () => {
    expect(build("GET", "/v1/shelves?lat=&flag=&color=&at=&nums=&path=")).toEqual({});
    expect(build("GET", "/v1/shelves?lat=0")).toEqual({ lat: 0 }); // explicit presence
  });

  it("query values of the wrong type are 400s naming the field", () => {
    expect(badRequest(() => build("GET", "/v1/shelves?nums=1&nums=x"))).toBe('nums[1]: expected number (int32), got "x"');
    expect(badRequest(() => build("GET", "/v1/shelves?flag=maybe"))).toBe('flag: expected boolean, got "maybe"');
    expect(badRequest(() => build("GET", "/v1/shelves?color=BLUE"))).toBe('color: expected one of COLOR_UNSPECIFIED, COLOR_RED, COLOR_GREEN, got "BLUE"');
    expect(badRequest(() => build("GET", "/v1/shelves?big=1.5"))).toMatch(/^big: expected /);
    expect(badRequest(() => build("GET", "/v1/shelves?at=yesterday"))).toMatch(/^at: expected an RFC 3339 timestamp/);
    expect(badRequest(() => build("GET", "/v1/shelves?filter.inner.count=lots"))).toBe('filter.inner.count: expected number (int32), got "lots"');
  });

  it("unknown, repeated-singular, map and object query parameters are 400s", () => {
    expect(badRequest(() => build("GET", "/v1/shelves?colour=1"))).toBe('unknown query parameter "colour"');
    expect(badRequest(() => build("GET", "/v1/shelves?filter.nope=1"))).toBe('unknown query parameter "filter.nope"');
    expect(badRequest(() => build("GET", "/v1/shelves?flag=true&flag=false"))).toMatch(/given 2 times but flag is not repeated/);
    expect(badRequest(() => build("GET", "/v1/shelves?filter=x"))).toMatch(/filter is an object .*filter\.<field>/);
    expect(badRequest(() => build("GET", "/v1/shelves?labels=x"))).toMatch(/labels is a map/);
    expect(badRequest(() => build("GET", "/v1/shelves?tags.x=1"))).toMatch(/tags has no sub-fields/);
  });

  it('body "field" fills that field; query fills the others; the body field cannot come from the query', () => {
    expect(build("POST", "/v1/shelves/s1/items?tags=t", { id: "i", count: 2 })).toEqual({ shelfId: "s1", item: { id: "i", count: 2 }, tags: ["t"] });
    expect(build("PUT", "/v1/shelves/s1/item", { id: "i" })).toEqual({ shelfId: "s1", item: { id: "i" } }); // additional binding
    expect(build("POST", "/v1/shelves/s1/items")).toEqual({ shelfId: "s1" });
    expect(badRequest(() => build("POST", "/v1/shelves/s1/items", { id: "i", nope: 1 }))).toBe("item.nope: unknown field");
    expect(badRequest(() => build("POST", "/v1/shelves/s1/items", [1]))).toBe("item: expected object, got array");
    expect(badRequest(() => build("POST", "/v1/shelves/s1/items?item.id=x", {}))).toMatch(/item is carried by the request body/);
  });

  it("a path variable wins over the same field in the body, under either name", () => {
    expect(build("PUT", "/v1/shelves/from-path", { shelfId: "from-body", tags: ["x"] })).toEqual({ shelfId: "from-path", tags: ["x"] });
    expect(build("PUT", "/v1/shelves/from-path", { shelf_id: "from-body" })).toEqual({ shelfId: "from-path" });
    expect(build("GET", "/v1/files/a/b%20c/d.txt")).toEqual({ path: "a/b c/d.txt" });
    expect(build("POST", "/v1/shelves/s:archive", { flag: true })).toEqual({ shelfId: "s", flag: true });
  });

  it("names the JSON path of a problem deep in the body", () => {
    expect(badRequest(() => build("PUT", "/v1/shelves/s", { items: [{ id: "a" }, { id: "b", count: "many" }] }))).toBe(
      'items[1].count: expected number (int32), got "many"',
    );
    expect(badRequest(() => build("PUT", "/v1/shelves/s", { items: [{ id: "a" }, { idd: "b" }] }))).toBe("items[1].idd: unknown field");
    expect(badRequest(() => build("PUT", "/v1/shelves/s", { items: [null] }))).toBe("items[0]: must not be null");
    expect(badRequest(() => build("PUT", "/v1/shelves/s", { tags: "a" }))).toBe('tags: expected array, got "a"');
    expect(badRequest(() => build("PUT", "/v1/shelves/s", { tags: ["a", 3] }))).toBe("tags[1]: expected string, got 3");
    expect(badRequest(() => build("PUT", "/v1/shelves/s", { labels: { a: 1 } }))).toMatch(/^labels: /);
    expect(badRequest(() => build("PUT", "/v1/shelves/s", { filter: { inner: { count: 1.5 } } }))).toBe("filter.inner.count: expected number (int32), got 1.5");
    expect(badRequest(() => build("PUT", "/v1/shelves/s", { big: "12x" }))).toMatch(/^big: expected /);
    expect(badRequest(() => build("PUT", "/v1/shelves/s", { at: "2025-13-45" }))).toMatch(/^at: expected an RFC 3339 timestamp/);
    expect(badRequest(() => build("PUT", "/v1/shelves/s", { color: "PURPLE" }))).toMatch(/^color: expected one of COLOR_UNSPECIFIED/);
  });

  it("accepts every proto3 JSON form in the body: int64 as string or number, Timestamp, enum number", () => {
    expect(build("PUT", "/v1/shelves/s", { big: 5, at: "2025-06-01T19:30:00.5Z", color: 1, labels: { k: "v" }, lat: 0 })).toEqual({
      shelfId: "s",
      big: "5",
      at: "2025-06-01T19:30:00.500Z",
      color: "COLOR_RED",
      labels: { k: "v" },
      lat: 0,
    });
  });
});

describe("helpers", () => {
  it("parseJsonBody: empty is undefined", () => {
    expect(parseJsonBody(new Uint8Array())).toBeUndefined();
    expect(parseJsonBody(Buffer.from('{"a":1}'))).toEqual({ a: 1 });
  });

  it("queryToJson builds nested proto3 JSON", () => {
    expect(queryToJson(EchoRequestSchema, new URLSearchParams("item.id=1&item.count=2&tags=x"))).toEqual({ item: { id: "1", count: "2" }, tags: ["x"] });
  });

  it("decodeRequest rejects what fromJson rejects, naming the field", () => {
    expect(() => decodeRequest(RegisterRequestSchema, { email: true })).toThrow("email: expected string, got true");
    expect(() => decodeRequest(UpdateMeRequestSchema as DescMessage, { phone: null })).not.toThrow();
  });

  it("responses show every field, under response_body when set", () => {
    const route = router.route("POST", "/api/v1/auth/register");
    if (route.kind !== "match") throw new Error();
    expect(responseJson(route.binding, create(RegisterResponseSchema, { userId: "u1" }) as Message)).toEqual({
      userId: "u1",
      email: "",
      displayName: "",
      role: "",
    });
    const get = router.route("GET", "/v1/shelves/s/items/i");
    if (get.kind !== "match") throw new Error();
    const echo = responseJson(get.binding, create(EchoResponseSchema, { note: "n" }) as Message) as Record<string, unknown>;
    expect(echo.shelfId).toBe("");
    expect(echo.tags).toEqual([]);
    expect(echo).not.toHaveProperty("note");
  });
});

describe("explicit nulls", () => {
  it("shows unset optional scalars and messages as null, and leaves implicit and oneof fields alone", () => {
    const json = withExplicitNulls(GetMeResponseSchema, { userId: "u" });
    expect(json).toEqual({ userId: "u" }); // implicit-presence fields: nothing added
    const patched = withExplicitNulls(UpdateMeRequestSchema, {});
    expect(patched).toEqual({ displayName: null, phone: null });
  });
});
