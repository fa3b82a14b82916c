/**
 * Which fields of the run config the code reads, found by the TypeScript type checker rather than
 * by name: a read is a property access (or destructuring, or string-keyed element access) whose
 * symbol is declared by the field's own property in the zod schema (z.output keeps those
 * declarations), or by a property of another type that the config object flows into (an argument,
 * an object-literal property, a spread, a return value) under the same name. `obj[key]` reads the
 * fields of obj that the key's type names (all of them for a plain string).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' || name === 'dist' || name === 'testing' ? [] : sources(p);
    return /\.ts$/.test(name) && !/\.test\.ts$/.test(name) ? [p] : [];
  });
}

export interface ConfigReads {
  /** Every leaf field of RunConfig by path ('training.lr'), with the places that read it ('file.ts:line'). */
  leaves: Map<string, string[]>;
  /** Source files analysed. */
  files: number;
}

/** Leaf fields of `RunConfig` (exported by contracts' run-config.ts) and where each is read in `roots`. */
export function findConfigReads(repo: string, roots: string[]): ConfigReads {
  const files = roots.flatMap((r) => sources(r));
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    customConditions: ['@irpo/source'],
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
    resolveJsonModule: true,
  });
  const checker = program.getTypeChecker();
  const schemaFile = join(repo, 'packages', 'contracts', 'src', 'run-config.ts');
  const rcModule = checker.getSymbolAtLocation(program.getSourceFile(schemaFile)!)!;
  const rcSymbol = checker.getExportsOfModule(rcModule).find((s) => s.name === 'RunConfig');
  if (!rcSymbol) throw new Error(`${schemaFile} exports no RunConfig type`);

  const isPlainObject = (t: ts.Type) =>
    t.getProperties().length > 0 &&
    !checker.isArrayType(t) &&
    !t.isUnion() &&
    !(t.flags & (ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BooleanLike));
  const typeOf = (s: ts.Symbol) => checker.getNonNullableType(checker.getTypeOfSymbol(s));

  // The leaves, by path, with the declaration of each and of the object field holding it.
  const leafDecl = new Map<string, { decl: ts.Declaration; parent?: ts.Declaration }>();
  const walk = (type: ts.Type, path: string[], parent?: ts.Declaration) => {
    for (const p of type.getProperties()) {
      const decl = p.declarations?.[0];
      if (!decl) throw new Error(`RunConfig.${[...path, p.name].join('.')} has no declaration to follow`);
      if (isPlainObject(typeOf(p))) walk(typeOf(p), [...path, p.name], decl);
      else leafDecl.set([...path, p.name].join('.'), { decl, parent });
    }
  };
  walk(checker.getDeclaredTypeOfSymbol(rcSymbol), []);

  // Declarations the config flows into: edges declaration → declarations of the same field elsewhere.
  const flows = new Map<ts.Node, Set<ts.Node>>();
  const link = (from: ts.Type, to: ts.Type, depth = 0) => {
    if (depth > 4 || !isPlainObject(from)) return;
    const targets = to.isUnion() ? to.types : [to];
    for (const p of from.getProperties()) {
      const pd = p.declarations?.[0];
      if (!pd) continue;
      for (const t of targets) {
        const q = t.getProperty(p.name);
        const qd = q?.declarations?.[0];
        // a library's generic declaration (Record's, say) is shared by unrelated types: not followed
        if (!q || !qd || qd === pd || qd.getSourceFile().isDeclarationFile) continue;
        if (!flows.has(pd)) flows.set(pd, new Set());
        flows.get(pd)!.add(qd);
        link(typeOf(p), typeOf(q), depth + 1);
      }
    }
  };
  const flowInto = (expr: ts.Expression) => {
    const target = checker.getContextualType(expr);
    if (target) link(checker.getNonNullableType(checker.getTypeAtLocation(expr)), checker.getNonNullableType(target));
  };

  // Reads, as the declarations of the symbols read, with where.
  const reads = new Map<ts.Node, string[]>();
  const whereOf = (at: ts.Node) => {
    const sf = at.getSourceFile();
    return `${sf.fileName.slice(repo.length)}:${sf.getLineAndCharacterOfPosition(at.getStart()).line + 1}`;
  };
  const read = (s: ts.Symbol | undefined, at: ts.Node) => {
    const d = s?.declarations?.[0];
    if (!d) return;
    if (!reads.has(d)) reads.set(d, []);
    reads.get(d)!.push(whereOf(at));
  };
  /** `x.field[key]`: the declaration of field, with the keys read (null: any) and where. */
  const keyedReads = new Map<ts.Node, { keys: string[] | null; at: string }[]>();
  /** A callback of .refine/.superRefine in the schema file: validation, not a use of the field. */
  const inValidation = (n: ts.Node): boolean => {
    for (let p = n.parent; p; p = p.parent) {
      if (ts.isCallExpression(p) && ts.isPropertyAccessExpression(p.expression) && /^(super)?[rR]efine$/.test(p.expression.name.text))
        return true;
    }
    return false;
  };
  for (const file of files) {
    const sf = program.getSourceFile(file)!;
    const visit = (n: ts.Node) => {
      if (ts.isPropertyAccessExpression(n)) {
        const written = ts.isBinaryExpression(n.parent) && n.parent.left === n && n.parent.operatorToken.kind === ts.SyntaxKind.EqualsToken;
        if (!written && !inValidation(n)) read(checker.getSymbolAtLocation(n.name), n);
      } else if (ts.isElementAccessExpression(n) && !inValidation(n)) {
        // obj['field'] reads that field; obj[key] reads every field the key's type allows
        const keyType = checker.getTypeAtLocation(n.argumentExpression);
        const keys = (keyType.isUnion() ? keyType.types : [keyType])
          .filter((t) => t.isStringLiteral())
          .map((t) => (t as ts.StringLiteralType).value);
        const objType = checker.getNonNullableType(checker.getTypeAtLocation(n.expression));
        for (const p of objType.getProperties()) if (keys.length === 0 || keys.includes(p.name)) read(p, n);
        const holder = ts.isPropertyAccessExpression(n.expression)
          ? checker.getSymbolAtLocation(n.expression.name)?.declarations?.[0]
          : undefined;
        if (holder) {
          if (!keyedReads.has(holder)) keyedReads.set(holder, []);
          keyedReads.get(holder)!.push({ keys: keys.length > 0 ? keys : null, at: whereOf(n) });
        }
      } else if (ts.isBindingElement(n) && ts.isObjectBindingPattern(n.parent)) {
        const name = n.propertyName ?? n.name;
        if (ts.isIdentifier(name) || ts.isStringLiteral(name)) read(checker.getTypeAtLocation(n.parent).getProperty(name.text), n);
      }
      if (ts.isCallExpression(n) || ts.isNewExpression(n)) n.arguments?.forEach(flowInto);
      else if (ts.isPropertyAssignment(n)) flowInto(n.initializer);
      else if (ts.isShorthandPropertyAssignment(n)) flowInto(n.name);
      else if (ts.isSpreadAssignment(n) || ts.isSpreadElement(n)) flowInto(n.expression);
      else if (ts.isReturnStatement(n) && n.expression) flowInto(n.expression);
      else if (ts.isVariableDeclaration(n) && n.type && n.initializer) flowInto(n.initializer);
      ts.forEachChild(n, visit);
    };
    visit(sf);
  }

  /** A declaration and every declaration the config flows into from it. */
  const closure = (decl: ts.Node): ts.Node[] => {
    const seen = new Set<ts.Node>([decl]);
    const todo = [decl];
    while (todo.length > 0) {
      for (const next of flows.get(todo.pop()!) ?? []) {
        if (seen.has(next)) continue;
        seen.add(next);
        todo.push(next);
      }
    }
    return [...seen];
  };
  const leaves = new Map<string, string[]>();
  for (const [path, { decl, parent }] of leafDecl) {
    const name = path.slice(path.lastIndexOf('.') + 1);
    const direct = closure(decl).flatMap((d) => reads.get(d) ?? []);
    const keyed = parent
      ? closure(parent).flatMap((d) => (keyedReads.get(d) ?? []).filter((r) => r.keys === null || r.keys.includes(name)).map((r) => r.at))
      : [];
    leaves.set(path, [...direct, ...keyed]);
  }
  return { leaves, files: files.length };
}
