import { describe, expect, it } from "vitest";
import { jsonDiff, jsonEqual } from "./json-diff.ts";

describe("jsonDiff", () => {
  it("ignores object key order and reports added, removed and changed paths, sorted", () => {
    const a = { type: "SPEC", spec: { url: "a", props: { x: { type: "string" }, gone: 1 }, list: [1, 2] } };
    const b = { spec: { list: [1, 3, 4], props: { x: { type: "integer" }, "new/~key": true }, url: "a" }, type: "SPEC" };
    expect(jsonDiff(a, b)).toEqual([
      { path: "/spec/list/1", kind: "changed", a: 2, b: 3 },
      { path: "/spec/list/2", kind: "added", b: 4 },
      { path: "/spec/props/gone", kind: "removed", a: 1 },
      { path: "/spec/props/new~1~0key", kind: "added", b: true },
      { path: "/spec/props/x/type", kind: "changed", a: "string", b: "integer" },
    ]);
    expect(jsonEqual({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toBe(true);
  });

  it("tells types apart: an object is not an array, null is not an object, 1 is not '1'", () => {
    expect(jsonDiff({ v: {} }, { v: [] })).toEqual([{ path: "/v", kind: "changed", a: {}, b: [] }]);
    expect(jsonDiff(null, {})).toEqual([{ path: "", kind: "changed", a: null, b: {} }]);
    expect(jsonDiff([1], ["1"])).toEqual([{ path: "/0", kind: "changed", a: 1, b: "1" }]);
  });
});
