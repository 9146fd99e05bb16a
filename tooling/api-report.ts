// The API report of each published package: every name its index.ts exports, with its kind and
// signature, as packages/<name>/api-report.md. `pnpm api-report` writes the reports; the test
// `tooling/api-report.test.ts` fails when the exports or a signature changed without updating them,
// so that every change of a public API is deliberate and visible in review.
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import ts from "typescript";

export const REPO_ROOT = resolve(import.meta.dirname, "..");
export const PACKAGES = ["base-images", "hooks", "connector-build"] as const;

const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

function declarationText(node: ts.Node, file: ts.SourceFile): string {
  // Bodies are not API: print declarations without function bodies and initialisers.
  const strip = (n: ts.Node): ts.Node => {
    if (ts.isFunctionDeclaration(n)) return ts.factory.updateFunctionDeclaration(n, n.modifiers, n.asteriskToken, n.name, n.typeParameters, n.parameters, n.type, undefined);
    return n;
  };
  return printer.printNode(ts.EmitHint.Unspecified, strip(node), file).trim();
}

function describeSymbol(checker: ts.TypeChecker, exported: ts.Symbol): { kind: string; text: string } {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const decl = symbol.declarations?.[0];
  if (!decl) return { kind: "unknown", text: exported.name };
  const file = decl.getSourceFile();
  if (ts.isInterfaceDeclaration(decl) || ts.isTypeAliasDeclaration(decl) || ts.isEnumDeclaration(decl)) {
    return { kind: ts.isInterfaceDeclaration(decl) ? "interface" : ts.isEnumDeclaration(decl) ? "enum" : "type", text: declarationText(decl, file) };
  }
  if (ts.isClassDeclaration(decl)) {
    const members = decl.members
      // Members tagged @internal are not API (they serve the package's own modules).
      .filter((m) => !ts.getJSDocTags(m).some((t) => t.tagName.text === "internal"))
      .filter((m) => !(ts.getCombinedModifierFlags(m) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) && !(m.name && ts.isPrivateIdentifier(m.name)))
      .map((m) => {
        const type = checker.getTypeAtLocation(m);
        const name = m.name ? m.name.getText(file) : ts.isConstructorDeclaration(m) ? "constructor" : "";
        const isStatic = ts.getCombinedModifierFlags(m) & ts.ModifierFlags.Static ? "static " : "";
        if (ts.isConstructorDeclaration(m)) return `  constructor(${m.parameters.map((p) => p.getText(file).replace(/\s+/g, " ")).join(", ")})`;
        const signatures = type.getCallSignatures();
        if ((ts.isMethodDeclaration(m) || ts.isGetAccessor(m)) && signatures.length > 0 && ts.isMethodDeclaration(m)) {
          return signatures.map((s) => `  ${isStatic}${name}${checker.signatureToString(s)}`).join("\n");
        }
        return `  ${isStatic}${ts.isGetAccessor(m) ? "get " : ""}${name}: ${checker.typeToString(type, m, ts.TypeFormatFlags.NoTruncation)}`;
      });
    const heritage = decl.heritageClauses?.map((h) => h.getText(file)).join(" ") ?? "";
    return { kind: "class", text: `class ${exported.name}${heritage ? ` ${heritage}` : ""} {\n${members.join("\n")}\n}` };
  }
  const type = checker.getTypeOfSymbolAtLocation(symbol, decl);
  const signatures = type.getCallSignatures();
  if (ts.isFunctionDeclaration(decl) || signatures.length > 0) {
    return { kind: "function", text: signatures.map((s) => `function ${exported.name}${checker.signatureToString(s, undefined, ts.TypeFormatFlags.NoTruncation)}`).join("\n") };
  }
  return { kind: "const", text: `const ${exported.name}: ${checker.typeToString(type, decl, ts.TypeFormatFlags.NoTruncation)}` };
}

function entryExports(pkg: (typeof PACKAGES)[number], entryFile = "src/index.ts") {
  const dir = join(REPO_ROOT, "packages", pkg);
  const entry = join(dir, entryFile);
  const config = ts.getParsedCommandLineOfConfigFile(join(dir, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!config) throw new Error(`cannot read ${dir}/tsconfig.json`);
  const program = ts.createProgram([entry], { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`cannot read the exports of ${entry}`);
  return { dir, checker, moduleSymbol };
}

/**
 * Named types (interfaces, type aliases, classes, enums) declared in the package's own `src/` that an
 * export's signature uses (parameters, results, properties, members, type arguments, recursively)
 * but that the entry does not export: a user could meet them and not name them. Sorted by name,
 * each with the export that reaches it.
 */
export function unexportedPublicTypes(pkg: (typeof PACKAGES)[number]): string[] {
  const { dir, checker, moduleSymbol } = entryExports(pkg);
  const own = join(dir, "src") + "/";
  const resolveAlias = (s: ts.Symbol) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const exported = new Set(checker.getExportsOfModule(moduleSymbol).map(resolveAlias));
  const missing = new Map<string, string>();
  const seen = new Set<ts.Type>();
  const isOwnNamed = (symbol: ts.Symbol | undefined) =>
    symbol?.declarations?.some((d) => d.getSourceFile().fileName.startsWith(own) && (ts.isInterfaceDeclaration(d) || ts.isTypeAliasDeclaration(d) || ts.isClassDeclaration(d) || ts.isEnumDeclaration(d))) === true;
  const visitSignature = (signature: ts.Signature, via: string) => {
    for (const p of signature.getParameters()) visit(checker.getTypeOfSymbol(p), via);
    visit(signature.getReturnType(), via);
  };
  const visit = (type: ts.Type, via: string): void => {
    if (seen.has(type)) return;
    seen.add(type);
    for (const symbol of [type.aliasSymbol, type.getSymbol()]) {
      if (symbol && isOwnNamed(symbol) && !exported.has(symbol) && !missing.has(symbol.name)) missing.set(symbol.name, via);
    }
    for (const t of type.aliasTypeArguments ?? []) visit(t, via);
    if (type.isUnionOrIntersection()) for (const t of type.types) visit(t, via);
    if (type.flags & ts.TypeFlags.Object) {
      const object = type as ts.ObjectType;
      if (object.objectFlags & ts.ObjectFlags.Reference) for (const t of checker.getTypeArguments(object as ts.TypeReference)) visit(t, via);
      const symbol = type.getSymbol();
      const declaredHere = symbol?.declarations?.some((d) => d.getSourceFile().fileName.startsWith(own)) === true;
      // Walk the members of the package's own object types (named or literal), not Node's or lib's.
      if (declaredHere) {
        for (const property of checker.getPropertiesOfType(type)) {
          const decl = property.valueDeclaration ?? property.declarations?.[0];
          if (!decl || ts.getJSDocTags(decl).some((t) => t.tagName.text === "internal")) continue;
          if (ts.getCombinedModifierFlags(decl as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
          if (property.name.startsWith("#")) continue;
          visit(checker.getTypeOfSymbolAtLocation(property, decl), `${via}.${property.name}`);
        }
        for (const s of [...type.getCallSignatures(), ...type.getConstructSignatures()]) visitSignature(s, via);
      }
    }
  };
  for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
    const target = resolveAlias(symbol);
    const decl = target.declarations?.[0];
    if (!decl) continue;
    if (target.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias)) visit(checker.getDeclaredTypeOfSymbol(target), symbol.name);
    else if (target.flags & ts.SymbolFlags.Class) {
      visit(checker.getDeclaredTypeOfSymbol(target), symbol.name);
      for (const s of checker.getTypeOfSymbolAtLocation(target, decl).getConstructSignatures()) visitSignature(s, symbol.name);
    } else visit(checker.getTypeOfSymbolAtLocation(target, decl), symbol.name);
  }
  return [...missing].map(([name, via]) => `${name} (reached from ${via})`).sort();
}

/** The API report of one package, as Markdown. */
export function apiReport(pkg: (typeof PACKAGES)[number]): string {
  const { dir, checker, moduleSymbol } = entryExports(pkg);
  const name = (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string }).name;
  const exports = checker.getExportsOfModule(moduleSymbol).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const lines = [
    `# API report: ${name}`,
    "",
    "Generated by `pnpm api-report` (tooling/api-report.ts) from `src/index.ts`; do not edit by hand.",
    "A test fails when the exports or their signatures change without this file being regenerated.",
    "",
    `${exports.length} exports.`,
    "",
  ];
  for (const symbol of exports) {
    const { kind, text } = describeSymbol(checker, symbol);
    lines.push(`## ${symbol.name} (${kind})`, "", "```ts", text.replace(/import\("[^"]*"\)\./g, ""), "```", "");
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

export function reportPath(pkg: (typeof PACKAGES)[number]): string {
  return join(REPO_ROOT, "packages", pkg, "api-report.md");
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  for (const pkg of PACKAGES) {
    writeFileSync(reportPath(pkg), apiReport(pkg));
    process.stderr.write(`wrote ${reportPath(pkg)}\n`);
  }
}
