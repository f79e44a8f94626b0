import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { packageRoot } from '../../../src/platform/paths.js';
import { expectAccessible } from './accessibility.js';

export const SCREENSHOT_DIR = path.join(packageRoot, 'docs', 'screenshots');
export const WIDTHS = [1280, 800] as const;

/**
 * Saves the page as docs/screenshots/<name>.png (1280 px wide) and <name>-800.png (800 px), full
 * height, then restores the viewport. Names are kebab-case: `sign-in`, `request-access`.
 * Every page shown is then held to the shared accessibility checks (support/accessibility.ts: named
 * controls, one h1, no sideways scroll at 800 px, visible keyboard focus); the test fails otherwise.
 */
export async function screenshot(page: Page, name: string): Promise<string[]> {
  if (!/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(name))
    throw new Error(`screenshot name '${name}' is not kebab-case`);
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const before = page.viewportSize() ?? { width: 1280, height: 900 };
  const files: string[] = [];
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: before.height });
    // let the layout settle at the new width (no animations here, just one frame)
    await page.evaluate('new Promise((resolve) => requestAnimationFrame(() => resolve(null)))');
    const file = path.join(SCREENSHOT_DIR, width === 1280 ? `${name}.png` : `${name}-${width}.png`);
    await page.screenshot({ path: file, fullPage: true, animations: 'disabled', caret: 'hide' });
    files.push(file);
  }
  await page.setViewportSize(before);
  await expectAccessible(page);
  return files;
}
