// No module depends on itself through others: TypeScript imports in src/, and C++ includes in
// native/ between units (a header and its .cpp are one unit). A cycle means two files can only be
// understood, tested and changed together.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const root = new URL('../../../', import.meta.url).pathname;

function filesUnder(dir: string, extensions: readonly string[]): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesUnder(path, extensions);
    return extensions.includes(extname(name)) ? [path] : [];
  });
}

/** Every cycle's nodes, as found by a depth-first walk (one cycle per back edge). */
function findCycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

function typescriptGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of filesUnder(join(root, 'src'), ['.ts'])) {
    const from = relative(root, file);
    const edges = new Set<string>();
    for (const match of readFileSync(file, 'utf8').matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)) {
      edges.add(relative(root, resolve(dirname(file), match[1]!.replace(/\.js$/, '.ts'))));
    }
    graph.set(from, edges);
  }
  return graph;
}

function nativeGraph(): Map<string, Set<string>> {
  const files = filesUnder(join(root, 'native'), ['.h', '.cpp']);
  const unitOf = (file: string) => relative(root, join(dirname(file), basename(file, extname(file))));
  const headers = new Map(files.filter((f) => f.endsWith('.h')).map((f) => [relative(root, f), unitOf(f)]));
  const graph = new Map<string, Set<string>>();
  for (const file of files) {
    const unit = unitOf(file);
    const edges = graph.get(unit) ?? new Set<string>();
    for (const match of readFileSync(file, 'utf8').matchAll(/^#include\s+"([^"]+)"/gm)) {
      const candidates = [join(dirname(file), match[1]!), join(root, 'native/include', match[1]!), join(root, 'native/src', match[1]!)];
      const target = candidates.map((c) => headers.get(relative(root, c))).find((u) => u !== undefined);
      if (target !== undefined && target !== unit) edges.add(target);
    }
    graph.set(unit, edges);
  }
  return graph;
}

describe('dependency cycles', () => {
  it('the cycle finder finds a cycle, so the checks below can fail', () => {
    const graph = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['a'])]]);
    assert.deepEqual(findCycles(graph), [['a', 'b', 'c', 'a']]);
  });

  it('no TypeScript module in src/ imports itself through others', () => {
    const graph = typescriptGraph();
    assert.ok(graph.size > 30, `read ${graph.size} modules`);
    assert.deepEqual(findCycles(graph), []);
  });

  it('no native unit includes itself through others', () => {
    const graph = nativeGraph();
    assert.ok(graph.size > 50, `read ${graph.size} units`);
    assert.deepEqual(findCycles(graph), []);
  });
});
