/**
 * The import graph of the project's TypeScript sources, and its cycles.
 *
 * Written here on the TypeScript parser (already a dev dependency) rather than with madge or
 * dependency-cruiser: those add a tree of packages for what is one walk over each file's import
 * and export declarations, and their type-only-import handling depends on options and on how
 * they map our `.js` specifiers back to `.ts` sources. The parser sees exactly what tsc sees:
 * `import type`, `export ... from`, `import x = require()`, dynamic `import()` and `import('m').T`
 * types. Cycles are the strongly connected components of more than one file (Tarjan's
 * algorithm) plus files that import themselves.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/** How one file reaches another: a value import (runs at load), a type-only one, or a dynamic `import()`. */
export type EdgeKind = 'value' | 'type' | 'dynamic';

export interface ImportEdge {
  from: string;
  to: string;
  kind: EdgeKind;
}

/**
 * Every `.ts` source under `root` (relative paths with `/`, sorted), without declaration files,
 * dot folders, and the folders `skip` names (given their relative path).
 */
export function sourceFiles(root: string, skip: (dir: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.name.startsWith('.')) continue;
      if (entry.isDirectory() && !skip(path)) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
    }
  };
  walk('');
  return out.sort();
}

/** Module specifiers a file uses, with their kind. */
export function specifiersOf(fileName: string, text: string): { specifier: string; kind: EdgeKind }[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: { specifier: string; kind: EdgeKind }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, kind: importKind(node) });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly = node.isTypeOnly || (node.exportClause !== undefined && ts.isNamedExports(node.exportClause) && node.exportClause.elements.length > 0 && node.exportClause.elements.every((e) => e.isTypeOnly));
      found.push({ specifier: node.moduleSpecifier.text, kind: typeOnly ? 'type' : 'value' });
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      found.push({ specifier: node.moduleReference.expression.text, kind: node.isTypeOnly ? 'type' : 'value' });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      found.push({ specifier: node.arguments[0].text, kind: 'dynamic' });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ specifier: node.argument.literal.text, kind: 'type' });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `import type {..}`, or named imports that are all `type`, load nothing at run time. */
function importKind(node: ts.ImportDeclaration): EdgeKind {
  const clause = node.importClause;
  if (!clause) return 'value'; // side-effect import
  if (clause.isTypeOnly) return 'type';
  const named = clause.namedBindings;
  const allTypeNamed = named !== undefined && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
  return !clause.name && allTypeNamed ? 'type' : 'value';
}

/** The project file a relative specifier names (`./x.js` is `./x.ts` in the sources), or null for packages and non-TS files. */
export function resolveSpecifier(root: string, from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = resolve(root, dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), base.replace(/\.mjs$/, '.mts'), `${base}.ts`, join(base, 'index.ts')];
  const hit = candidates.find((c) => c.endsWith('.ts') && existsSync(c));
  return hit ? relative(root, hit).split(sep).join('/') : null;
}

/** Edges between the given files (targets outside the list, such as skipped fixtures, are dropped). */
export function importGraph(root: string, files: string[]): ImportEdge[] {
  const known = new Set(files);
  const edges: ImportEdge[] = [];
  for (const from of files) {
    for (const { specifier, kind } of specifiersOf(from, readFileSync(join(root, from), 'utf8'))) {
      const to = resolveSpecifier(root, from, specifier);
      if (to && known.has(to)) edges.push({ from, to, kind });
    }
  }
  return edges;
}

/**
 * The cycles of a graph: each strongly connected component of two or more files, and each file
 * importing itself, as a sorted file list (Tarjan's algorithm, iterative so deep graphs cannot
 * overflow the stack).
 */
export function cyclesOf(edges: readonly ImportEdge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (!next.has(e.from)) next.set(e.from, []);
    if (!next.has(e.to)) next.set(e.to, []);
    next.get(e.from)!.push(e.to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const start of [...next.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { node: string; child: number }[] = [{ node: start, child: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const children = next.get(frame.node)!;
      if (frame.child < children.length) {
        const child = children[frame.child++];
        if (!index.has(child)) {
          index.set(child, counter);
          low.set(child, counter++);
          stack.push(child);
          onStack.add(child);
          work.push({ node: child, child: 0 });
        } else if (onStack.has(child)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(child)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].node;
        low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
      }
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = component.length === 1 && children.includes(frame.node);
        if (component.length > 1 || selfLoop) components.push(component.sort());
      }
    }
  }
  return components.sort((a, b) => a[0].localeCompare(b[0]));
}

/** One readable loop through a component: a shortest path back to its first file, with edge kinds. */
export function describeCycle(component: readonly string[], edges: readonly ImportEdge[]): string {
  const members = new Set(component);
  const inside = edges.filter((e) => members.has(e.from) && members.has(e.to));
  const start = component[0];
  const previous = new Map<string, ImportEdge>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    for (const e of inside.filter((edge) => edge.from === queue[i])) {
      if (e.to === start) {
        const path: ImportEdge[] = [e];
        for (let at = e.from; at !== start; at = previous.get(at)!.from) path.unshift(previous.get(at)!);
        return start + path.map((p) => ` -(${p.kind})-> ${p.to}`).join('');
      }
      if (!previous.has(e.to)) {
        previous.set(e.to, e);
        queue.push(e.to);
      }
    }
  }
  return component.join(', ');
}
