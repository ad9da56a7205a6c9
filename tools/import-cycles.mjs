#!/usr/bin/env node
// Fails when modules of a package import each other in a circle (type-only imports too):
// a cycle means two modules that cannot be understood, tested or loaded one without the other.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RELATIVE_IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)'/g;

/** The TypeScript sources of every package (generated code aside). */
function sources() {
  const files = [];
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const src = join(root, 'packages', pkg, 'src');
    for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name);
      if (entry.isFile() && path.endsWith('.ts') && !path.includes(`${join('src', 'generated')}`)) files.push(path);
    }
  }
  return files;
}

const files = new Set(sources());
const imports = new Map(
  [...files].map((file) => {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(RELATIVE_IMPORT)].map((m) =>
      resolve(dirname(file), m[1].replace(/\.js$/, '.ts')),
    );
    return [file, targets.filter((target) => files.has(target))];
  }),
);

const cycles = [];
const state = new Map(); // 1: on the current path, 2: done
const path = [];
function visit(file) {
  state.set(file, 1);
  path.push(file);
  for (const target of imports.get(file) ?? []) {
    if (state.get(target) === 1) cycles.push([...path.slice(path.indexOf(target)), target]);
    else if (!state.has(target)) visit(target);
  }
  path.pop();
  state.set(file, 2);
}
for (const file of files) if (!state.has(file)) visit(file);

if (cycles.length > 0) {
  for (const cycle of cycles) console.error(`import cycle: ${cycle.map((f) => relative(root, f)).join(' -> ')}`);
  console.error('Break each cycle: let one side depend on an interface of its own instead of the other module.');
  process.exit(1);
}
console.log(`no import cycles in ${files.size} modules`);
