import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The import rules of the house (README, "Layout"), read from the import statements of the
 * sources themselves: a rule broken in any file fails here, whatever the code does at run time.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LAYERS = ['src', 'routes', 'middleware'];

/** repo-relative .ts path → the specifiers it imports (static, re-exports, dynamic, worker URLs). */
type Sources = ReadonlyMap<string, string>;

function readSources(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.set(rel, readFileSync(path.join(ROOT, rel), 'utf8'));
    }
  };
  for (const layer of LAYERS) walk(layer);
  return out;
}

// Static imports end with a semicolon (the formatter writes them so), which tells them from
// other languages' import lines inside template strings (the demo writes Go files).
const SPECIFIER =
  /(?:^|[\s;])(?:import|export)\s(?:[^'"]*?\sfrom\s)?['"]([^'"]+)['"]\s*;|\bimport\(\s*['"]([^'"]+)['"]\s*\)|new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url/g;

interface Edge {
  from: string;
  /** A repo-relative .ts path for relative imports, else the bare specifier ("express", "node:fs"). */
  to: string;
}

export function importEdges(sources: Sources): Edge[] {
  const edges: Edge[] = [];
  for (const [file, text] of sources) {
    // Comments may quote imports ("see import('x')"); only code counts.
    const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
    for (const match of code.matchAll(SPECIFIER)) {
      const spec = match[1] ?? match[2] ?? match[3]!;
      const to = spec.startsWith('.')
        ? path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)).replace(/\.js$/, '.ts')
        : spec;
      edges.push({ from: file, to });
    }
  }
  return edges;
}

const under = (file: string, dir: string): boolean => file === dir || file.startsWith(`${dir}/`);
const isPackage = (to: string): boolean => !to.includes('/') || !LAYERS.some((l) => under(to, l));

interface Rule {
  name: string;
  /** True when the edge breaks the rule. */
  breaks(edge: Edge): boolean;
}

const RULES: Rule[] = [
  {
    name: 'src/xmod imports nothing outside itself (no other folder, no npm package)',
    breaks: ({ from, to }) => under(from, 'src/xmod') && !under(to, 'src/xmod') && !to.startsWith('node:'),
  },
  {
    name: 'no file in src imports express',
    breaks: ({ from, to }) => under(from, 'src') && (to === 'express' || to.startsWith('express/')),
  },
  {
    name: 'src/git imports only src/git, src/support, src/errors.ts and packages',
    breaks: ({ from, to }) =>
      under(from, 'src/git') && !isPackage(to) && !under(to, 'src/git') && !under(to, 'src/support') && to !== 'src/errors.ts',
  },
  {
    name: 'src/support imports only src/support, src/errors.ts and packages',
    breaks: ({ from, to }) => under(from, 'src/support') && !isPackage(to) && !under(to, 'src/support') && to !== 'src/errors.ts',
  },
  {
    name: 'src/mirror imports only src/mirror, src/support, src/errors.ts, src/logger.ts and packages',
    breaks: ({ from, to }) =>
      under(from, 'src/mirror') &&
      !isPackage(to) &&
      !under(to, 'src/mirror') &&
      !under(to, 'src/support') &&
      to !== 'src/errors.ts' &&
      to !== 'src/logger.ts',
  },
  {
    name: 'src/zip and src/modfetch never import src/service, src/cli or the config',
    breaks: ({ from, to }) =>
      (under(from, 'src/zip') || under(from, 'src/modfetch')) &&
      (under(to, 'src/service') || under(to, 'src/cli') || to === 'src/config.ts' || to === 'src/config-stores.ts'),
  },
  {
    name: 'src never imports routes or middleware (only src/cli, the program, may import routes)',
    breaks: ({ from, to }) => under(from, 'src') && !under(from, 'src/cli') && (under(to, 'routes') || under(to, 'middleware')),
  },
  {
    name: 'middleware never imports routes or src/cli',
    breaks: ({ from, to }) => under(from, 'middleware') && (under(to, 'routes') || under(to, 'src/cli')),
  },
  { name: 'routes never import src/cli', breaks: ({ from, to }) => under(from, 'routes') && under(to, 'src/cli') },
];

export function brokenRules(sources: Sources): string[] {
  const problems: string[] = [];
  for (const edge of importEdges(sources)) {
    for (const rule of RULES) if (rule.breaks(edge)) problems.push(`${rule.name}: ${edge.from} imports ${edge.to}`);
  }
  return problems;
}

/** Every import cycle among the sources, each once, as "a → b → a" (type-only imports count: they still tie two files). */
export function importCycles(sources: Sources): string[] {
  const graph = new Map<string, string[]>();
  for (const { from, to } of importEdges(sources)) if (sources.has(to)) graph.set(from, [...(graph.get(from) ?? []), to]);
  const cycles = new Set<string>();
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'active');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'active') {
        const loop = stack.slice(stack.indexOf(next));
        // Start each loop at its smallest name, so the same loop found twice is listed once.
        const start = loop.indexOf([...loop].sort()[0]!);
        const rotated = [...loop.slice(start), ...loop.slice(0, start)];
        cycles.add([...rotated, rotated[0]].join(' → '));
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...sources.keys()].sort()) if (!state.has(file)) visit(file);
  return [...cycles];
}

describe('layering', () => {
  const sources = readSources();

  test('the sources are read', () => {
    assert.ok(sources.size > 40, `only ${sources.size} files`);
    assert.ok(importEdges(sources).length > 150);
  });

  test('no import cycles', () => {
    assert.deepEqual(importCycles(sources), []);
  });

  test('every import follows the layer rules', () => {
    assert.deepEqual(brokenRules(sources), []);
  });

  test('every relative import names a file that exists', () => {
    const missing = importEdges(sources).filter(
      (e) => e.to.startsWith('src/') || e.to.startsWith('routes/') || e.to.startsWith('middleware/'),
    );
    assert.deepEqual(
      missing.filter((e) => !sources.has(e.to)).map((e) => `${e.from} → ${e.to}`),
      [],
    );
  });

  // The checks themselves, on planted trees: a rule that can never fail guards nothing.
  test('a planted cycle is found', () => {
    const planted = new Map(sources);
    planted.set('src/errors.ts', `${sources.get('src/errors.ts')}\nimport type { ModuleService } from './service/module-service.js';\n`);
    const cycles = importCycles(planted);
    assert.ok(cycles.length > 0);
    assert.ok(
      cycles.some((c) => c.includes('src/errors.ts') && c.includes('src/service/module-service.ts')),
      cycles.join('\n'),
    );
    assert.deepEqual(
      importCycles(
        new Map([
          ['src/a.ts', "import { b } from './b.js';"],
          ['src/b.ts', "export { a } from './a.js';"],
        ]),
      ),
      ['src/a.ts → src/b.ts → src/a.ts'],
    );
  });

  test('planted rule breaks are found, one per rule', () => {
    const planted: [string, string, RegExp][] = [
      ['src/xmod/semver.ts', "import { NotFoundError } from '../errors.js';", /src\/xmod imports nothing/],
      ['src/xmod/semver.ts', "import semver from 'semver';", /src\/xmod imports nothing/],
      ['src/service/warm.ts', "import express from 'express';", /no file in src imports express/],
      ['src/git/refs.ts', "import type { ModuleService } from '../service/module-service.js';", /src\/git imports only/],
      ['src/support/lru-cache.ts', "import { CodeHost } from '../modfetch/code-host.js';", /src\/support imports only/],
      ['src/mirror/mirror-fetch.ts', "import type { ModuleService } from '../service/module-service.js';", /src\/mirror imports only/],
      ['src/zip/cache.ts', "import type { VersionPins } from '../service/version-pins.js';", /src\/zip and src\/modfetch/],
      ['src/service/warm.ts', "import { sendError } from '../../middleware/error-handler.js';", /src never imports routes or middleware/],
      ['middleware/auth.ts', "import { GO_PROXY_BASE } from '../routes/go-proxy.js';", /middleware never imports routes/],
      ['routes/server.ts', "const demo = await import('../src/cli/demo.js');", /routes never import src\/cli/],
    ];
    for (const [file, line, rule] of planted) {
      const tree = new Map(sources);
      tree.set(file, `${line}\n${sources.get(file)}`);
      const broken = brokenRules(tree);
      assert.ok(
        broken.some((b) => rule.test(b)),
        `${file}: ${line}\n${broken.join('\n')}`,
      );
    }
  });

  test('every runtime dependency in package.json is imported by src, routes or middleware, and nothing else is', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const declared = Object.keys(pkg.dependencies).sort();
    const imported = new Set(
      importEdges(sources)
        .map((e) => e.to)
        .filter((to) => !to.startsWith('node:') && isPackage(to))
        .map((to) => (to.startsWith('@') ? to.split('/').slice(0, 2).join('/') : to.split('/')[0]!)),
    );
    assert.deepEqual(
      declared.filter((d) => !imported.has(d)),
      [],
      'declared but never imported',
    );
    assert.deepEqual([...imported].filter((i) => !declared.includes(i)).sort(), [], 'imported but not a runtime dependency');
  });

  test('imports in comments do not count', () => {
    const tree = new Map([['src/xmod/a.ts', "// import express from 'express';\n/* import('../errors.js') */\nexport const a = 1;"]]);
    assert.deepEqual(brokenRules(tree), []);
  });
});
