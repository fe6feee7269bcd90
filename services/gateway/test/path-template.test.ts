import { compareSpecificity, matchPath, parsePathTemplate, templateShape } from "../path-template.js";

const match = (template: string, path: string) => {
  const m = matchPath(parsePathTemplate(template), path);
  return m && Object.fromEntries(m);
};

describe("path templates", () => {
  it("parses literals, variables, nested field paths, wildcards and verbs", () => {
    const t = parsePathTemplate("/api/v1/venue/{venue_id}/hall/{hall.id=*}");
    expect(t.segments.map((s) => (s.kind === "literal" ? s.value : s.kind))).toEqual(["api", "v1", "venue", "wild", "hall", "wild"]);
    expect(t.variables).toEqual([
      { fieldPath: ["venue_id"], start: 3, end: 4 },
      { fieldPath: ["hall", "id"], start: 5, end: 6 },
    ]);
    expect(parsePathTemplate("/v1/{name=shelves/*/books/*}:cancel").verb).toBe("cancel");
    expect(parsePathTemplate("/v1/{name=shelves/*/books/*}").variables[0]).toEqual({ fieldPath: ["name"], start: 1, end: 5 });
  });

  it.each([
    ["api/v1/x", "must start with /"],
    ["/api//x", "empty segment"],
    ["/api/v1/", "trailing /"],
    ["/api/{id", "unclosed {"],
    ["/api/{a-b}", "invalid field path"],
    ["/api/{id}/{id}", "bound twice"],
    ["/api/**/x", "** must be the last segment"],
    ["/api/{a={b}}", "nested"],
  ])("refuses %s", (template, problem) => {
    expect(() => parsePathTemplate(template)).toThrow(problem);
  });

  it("binds {field} to exactly one non-empty segment, percent-decoded", () => {
    expect(match("/api/v1/venue/{venue_id}", "/api/v1/venue/abc")).toEqual({ venue_id: "abc" });
    expect(match("/api/v1/venue/{venue_id}", "/api/v1/venue/a%20b%2Fc")).toEqual({ venue_id: "a b/c" });
    expect(match("/api/v1/venue/{venue_id}", "/api/v1/venue/")).toBeUndefined();
    expect(match("/api/v1/venue/{venue_id}", "/api/v1/venue/a/b")).toBeUndefined();
    expect(match("/api/v1/venue/{venue_id}", "/api/v1/venue")).toBeUndefined();
    expect(match("/api/v1/venue/{venue_id}", "/api/v1/Venue/abc")).toBeUndefined();
    expect(match("/api/v1/venue/{venue_id}", "/api/v1/venue/%E0%A4%A")).toBeUndefined(); // malformed escape
  });

  it("binds several and nested variables", () => {
    expect(match("/api/v1/venue/{venue_id}/hall/{hall_id}", "/api/v1/venue/v1/hall/h2")).toEqual({ venue_id: "v1", hall_id: "h2" });
    expect(match("/v1/shelves/{shelf.id}/books/{book.id=*}", "/v1/shelves/s/books/b")).toEqual({ "shelf.id": "s", "book.id": "b" });
  });

  it("binds {field=**} to the rest of the path, and multi-segment sub-templates", () => {
    expect(match("/v1/files/{path=**}", "/v1/files/a/b/c.txt")).toEqual({ path: "a/b/c.txt" });
    expect(match("/v1/files/{path=**}", "/v1/files")).toEqual({ path: "" });
    expect(match("/v1/files/{path=**}", "/v1/files/a%2Fb/c")).toEqual({ path: "a%2Fb/c" }); // an encoded / stays encoded
    expect(match("/v1/{name=shelves/*/books/*}", "/v1/shelves/1/books/2")).toEqual({ name: "shelves/1/books/2" });
    expect(match("/v1/{name=shelves/*/books/*}", "/v1/shelves/1/papers/2")).toBeUndefined();
    expect(match("/v1/*/x", "/v1/anything/x")).toEqual({});
  });

  it("matches a verb only when present", () => {
    expect(match("/v1/{name}:cancel", "/v1/op1:cancel")).toEqual({ name: "op1" });
    expect(match("/v1/{name}:cancel", "/v1/op1")).toBeUndefined();
    expect(match("/v1/{name}", "/v1/op1:cancel")).toEqual({ name: "op1:cancel" });
  });

  it("orders literal over * over **, and knows colliding shapes", () => {
    const t = (s: string) => parsePathTemplate(s);
    const sorted = ["/api/v1/{x=**}", "/api/v1/me/{x}", "/api/v1/me/bookings"].map(t).sort(compareSpecificity).map((x) => x.source);
    expect(sorted).toEqual(["/api/v1/me/bookings", "/api/v1/me/{x}", "/api/v1/{x=**}"]);
    expect(templateShape(t("/a/{x}/b"))).toBe(templateShape(t("/a/{y=*}/b")));
  });
});
