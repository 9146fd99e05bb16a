import { isDeepStrictEqual } from "node:util";
import { Scalar, isMap, isScalar, parseDocument } from "yaml";
import { ConnectorBuildError } from "../errors.ts";

/**
 * Sets `data.connectorBuildOptions.baseImage` in metadata.yaml text, changing only that value's
 * characters (or inserting one line): every comment and the formatting of the rest stay as they are.
 */
export function setBaseImageInYaml(source: string, address: string, where = "metadata.yaml"): string {
  const edited = editBaseImage(source, address, where);
  verifyEdit(source, edited, address, where);
  return edited;
}

/**
 * The edit is checked by reading it back before anything is written: the YAML parses, baseImage is
 * the new address, and every other value is what it was. What fails this is refused, not written.
 */
function verifyEdit(before: string, after: string, address: string, where: string): void {
  const reread = parseDocument(after);
  const data = reread.errors.length === 0 ? (reread.toJS() as { data?: { connectorBuildOptions?: { baseImage?: unknown } } } | null) : undefined;
  const old = parseDocument(before).toJS() as { data?: { connectorBuildOptions?: { baseImage?: unknown } } } | null;
  const withoutBase = (doc: typeof old) => {
    const copy = structuredClone(doc);
    if (copy?.data?.connectorBuildOptions) delete copy.data.connectorBuildOptions.baseImage;
    if (copy?.data?.connectorBuildOptions && Object.keys(copy.data.connectorBuildOptions).length === 0) delete copy.data.connectorBuildOptions;
    return copy;
  };
  if (data?.data?.connectorBuildOptions?.baseImage !== address || !isDeepStrictEqual(withoutBase(data), withoutBase(old))) {
    throw new ConnectorBuildError(
      "INVALID_METADATA",
      `${where}: cannot set data.connectorBuildOptions.baseImage safely (the edited file would not read back as the same metadata with the new address): expected baseImage as a plain one-line value; nothing was written`,
    );
  }
}

function editBaseImage(source: string, address: string, where: string): string {
  const doc = parseDocument(source, { keepSourceTokens: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    throw new ConnectorBuildError("INVALID_METADATA", `${where}: YAML syntax error${e?.linePos ? ` at line ${e.linePos[0]?.line}` : ""}: ${e?.message.split("\n")[0]}`);
  }
  const eol = source.includes("\r\n") ? "\r\n" : "\n";
  const data = doc.get("data", true);
  if (!isMap(data)) throw new ConnectorBuildError("INVALID_METADATA", `${where}: data is missing or not a mapping: expected data: with the connector's fields`);
  const options = data.get("connectorBuildOptions", true);
  if (options !== undefined && !isMap(options)) {
    throw new ConnectorBuildError("INVALID_METADATA", `${where}: data.connectorBuildOptions is not a mapping: expected connectorBuildOptions: { baseImage: … }`);
  }
  const existing = isMap(options) ? options.get("baseImage", true) : undefined;
  if (existing !== undefined) {
    if (!isScalar(existing) || !existing.range) {
      throw new ConnectorBuildError("INVALID_METADATA", `${where}: data.connectorBuildOptions.baseImage is not a string: expected an image address`);
    }
    if (existing.type === Scalar.BLOCK_FOLDED || existing.type === Scalar.BLOCK_LITERAL) {
      throw new ConnectorBuildError(
        "INVALID_METADATA",
        `${where}: data.connectorBuildOptions.baseImage is a block scalar (${existing.type === Scalar.BLOCK_FOLDED ? ">" : "|"}): expected a plain one-line value such as baseImage: <registry>/<repository>:<tag>@sha256:<digest>; nothing was written`,
      );
    }
    if (existing.value === null && existing.range[0] === existing.range[1]) {
      // `baseImage:` with no value: write the address after the key's colon.
      const pair = isMap(options) ? options.items.find((p) => isScalar(p.key) && p.key.value === "baseImage") : undefined;
      const keyEnd = isScalar(pair?.key) ? pair.key.range?.[1] : undefined;
      const colon = keyEnd === undefined ? -1 : source.indexOf(":", keyEnd);
      if (colon < 0) throw new ConnectorBuildError("INVALID_METADATA", `${where}: cannot locate data.connectorBuildOptions.baseImage`);
      return `${source.slice(0, colon + 1)} ${address}${source.slice(colon + 1)}`;
    }
    const [start, valueEnd] = existing.range;
    // Keep the quoting style of the original value.
    const original = source.slice(start, valueEnd);
    const quote = original.startsWith('"') ? '"' : original.startsWith("'") ? "'" : "";
    return `${source.slice(0, start)}${quote}${address}${quote}${source.slice(valueEnd)}`;
  }
  const lineStart = (offset: number) => source.lastIndexOf("\n", offset - 1) + 1;
  const indentAt = (offset: number) => offset - lineStart(offset);
  const lineEnd = (offset: number) => {
    const nl = source.indexOf("\n", offset);
    return nl < 0 ? source.length : nl + 1;
  };
  const firstKey = (map: typeof data) => {
    const pair = map.items[0];
    const key = pair?.key;
    return isScalar(key) && key.range ? key.range[0] : undefined;
  };
  if (isMap(options) && options.items.length > 0 && !options.flow) {
    const keyOffset = firstKey(options);
    if (keyOffset === undefined) throw new ConnectorBuildError("INVALID_METADATA", `${where}: cannot locate data.connectorBuildOptions`);
    const indent = " ".repeat(indentAt(keyOffset));
    const at = lineStart(keyOffset);
    return `${source.slice(0, at)}${indent}baseImage: ${address}${eol}${source.slice(at)}`;
  }
  if (options === undefined && data.items.length > 0 && !data.flow) {
    const keyOffset = firstKey(data);
    if (keyOffset === undefined) throw new ConnectorBuildError("INVALID_METADATA", `${where}: cannot locate data`);
    const indent = " ".repeat(indentAt(keyOffset));
    const lastPair = data.items[data.items.length - 1];
    const endOffset = (lastPair?.value as { range?: [number, number, number] } | undefined)?.range?.[1] ?? source.length;
    const at = lineEnd(Math.max(endOffset - 1, 0));
    const step = indent.length > 0 ? indent : "  ";
    const prefix = at > 0 && !source.slice(0, at).endsWith("\n") ? eol : "";
    return `${source.slice(0, at)}${prefix}${indent}connectorBuildOptions:${eol}${indent}${step}baseImage: ${address}${eol}${source.slice(at)}`;
  }
  // Flow-style or empty mappings: fall back to the YAML library (comments still kept).
  doc.setIn(["data", "connectorBuildOptions", "baseImage"], address);
  return doc.toString();
}
