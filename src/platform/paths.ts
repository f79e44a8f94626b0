import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(from: string): string {
  let dir = from;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${from}`);
    dir = parent;
  }
  return dir;
}

/** The folder holding package.json and migrations/, whether running from src/ (tsx) or dist/. */
export const packageRoot = findPackageRoot(path.dirname(fileURLToPath(import.meta.url)));
