/** One structural difference between two JSON values, at a JSON Pointer (RFC 6901) path. */
export type JsonChange =
  | { readonly path: string; readonly kind: "added"; readonly b: unknown }
  | { readonly path: string; readonly kind: "removed"; readonly a: unknown }
  | { readonly path: string; readonly kind: "changed"; readonly a: unknown; readonly b: unknown };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function pointer(path: string, key: string | number): string {
  return `${path}/${String(key).replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

/** Structural equality of JSON values: object key order does not matter, array order does. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return jsonDiff(a, b).length === 0;
}

/**
 * The structural differences between two JSON values: objects are compared key by key (their key
 * order is ignored), arrays index by index (their order matters: a reordered `required` list is
 * reported as changes), anything else by value and type. Keys come out sorted, so the result is
 * deterministic. The root path is `""`.
 */
export function jsonDiff(a: unknown, b: unknown, path = ""): JsonChange[] {
  if (isObject(a) && isObject(b)) {
    const changes: JsonChange[] = [];
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const at = pointer(path, key);
      if (!Object.hasOwn(b, key)) changes.push({ path: at, kind: "removed", a: a[key] });
      else if (!Object.hasOwn(a, key)) changes.push({ path: at, kind: "added", b: b[key] });
      else changes.push(...jsonDiff(a[key], b[key], at));
    }
    return changes;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const changes: JsonChange[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const at = pointer(path, i);
      if (i >= b.length) changes.push({ path: at, kind: "removed", a: a[i] });
      else if (i >= a.length) changes.push({ path: at, kind: "added", b: b[i] });
      else changes.push(...jsonDiff(a[i], b[i], at));
    }
    return changes;
  }
  // Numbers compare by value (1 and 1.0 are the same JSON number); everything else by identity of
  // primitive value, and an object never equals an array or a primitive.
  if (a === b) return [];
  return [{ path, kind: "changed", a, b }];
}
