import type { Page } from 'playwright-core';

/**
 * The back-office's accessibility floor, checked with plain DOM reads in the page (no audit library):
 *
 * - every form control a user can reach (input, select, textarea, button and their ARIA roles) has an
 *   accessible name: a <label>, aria-label, aria-labelledby, title, or its own text;
 * - the page has exactly one visible h1;
 * - at 800 px wide nothing scrolls sideways (document scrollWidth ≤ 800);
 * - keyboard focus is visible: each of the first `tabs` Tab stops matches :focus-visible and draws an
 *   outline or a box shadow.
 *
 * `accessibilityProblems` lists what fails (empty when all pass); `expectAccessible` throws with them.
 * The page's viewport and focus are restored afterwards.
 */
export interface AccessibilityOptions {
  /** Tab stops to check for a visible focus (default 15; 0 skips the keyboard check). */
  tabs?: number;
  /** The narrow width that must not scroll sideways (default 800). */
  narrowWidth?: number;
}

/** Runs in the page: controls without an accessible name, and the number of visible h1 elements. */
const STATIC_CHECKS = `(() => {
  const visible = (el) => {
    if (el.closest('[hidden], [aria-hidden="true"]')) return false;
    const style = getComputedStyle(el);
    return style.visibility !== 'hidden' && style.display !== 'none' && el.getClientRects().length > 0;
  };
  const text = (el) => (el.textContent || '').replace(/\\s+/g, ' ').trim();
  const byIds = (ids) =>
    ids.split(/\\s+/).map((id) => document.getElementById(id)).filter(Boolean).map(text).join(' ').trim();
  const nameOf = (el) => {
    const labelledBy = el.getAttribute('aria-labelledby');
    if (labelledBy && byIds(labelledBy)) return byIds(labelledBy);
    const label = (el.getAttribute('aria-label') || '').trim();
    if (label) return label;
    if (el.labels && el.labels.length > 0) {
      const fromLabels = Array.from(el.labels).map(text).join(' ').trim();
      if (fromLabels) return fromLabels;
    }
    const type = (el.getAttribute('type') || '').toLowerCase();
    if (el.tagName === 'INPUT' && ['submit', 'reset', 'button'].includes(type)) return (el.value || '').trim();
    if (el.tagName === 'INPUT' && type === 'image') return (el.getAttribute('alt') || '').trim();
    if (el.tagName === 'BUTTON' || /^(button|checkbox|radio|switch|tab|menuitem|option)$/.test(el.getAttribute('role') || '')) {
      const own = text(el) || Array.from(el.querySelectorAll('img[alt]')).map((i) => i.getAttribute('alt')).join(' ').trim();
      if (own) return own;
    }
    return (el.getAttribute('title') || '').trim();
  };
  const describe = (el) => {
    const attrs = ['id', 'name', 'type', 'role'].map((a) => el.getAttribute(a) ? a + '="' + el.getAttribute(a) + '"' : '').filter(Boolean);
    return '<' + el.tagName.toLowerCase() + (attrs.length ? ' ' + attrs.join(' ') : '') + '>';
  };
  const controls = Array.from(document.querySelectorAll(
    'input:not([type="hidden"]), select, textarea, button, [role="button"], [role="checkbox"], [role="radio"], ' +
    '[role="combobox"], [role="textbox"], [role="switch"], [role="slider"], [role="searchbox"], [role="spinbutton"]'
  )).filter(visible);
  const unnamed = controls.filter((el) => !nameOf(el)).map(describe);
  const h1s = Array.from(document.querySelectorAll('h1')).filter(visible).map(text);
  return { unnamed, h1s };
})()`;

/** Runs in the page: what has the focus now, and whether it shows. */
const FOCUS_CHECK = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  const label = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('name') || el.id || '')
    .replace(/\\s+/g, ' ').trim().slice(0, 40);
  return {
    key: el.tagName + '#' + (el.id || '') + ':' + label,
    what: '<' + el.tagName.toLowerCase() + '> "' + label + '"',
    focusVisible: el.matches(':focus-visible'),
    shows: outline || Boolean(shadow),
  };
})()`;

/** Remembers what has the focus and where the page is scrolled (RESTORE_FOCUS gives them back). */
const KEEP_FOCUS = `(() => {
  window.__a11yKept = { focus: document.activeElement, x: window.scrollX, y: window.scrollY };
})()`;
const RESTORE_FOCUS = `(() => {
  const kept = window.__a11yKept;
  delete window.__a11yKept;
  if (document.activeElement && document.activeElement.blur) document.activeElement.blur();
  if (kept && kept.focus && kept.focus !== document.body && kept.focus.isConnected) {
    kept.focus.focus({ preventScroll: true });
  }
  if (kept) window.scrollTo(kept.x, kept.y);
})()`;

/** Puts the focus navigation's starting point before everything: the next Tab reaches the first stop. */
const FROM_THE_TOP = `(() => {
  const start = document.createElement('span');
  start.id = 'a11y-start';
  start.tabIndex = -1;
  document.body.prepend(start);
  start.focus({ preventScroll: true });
})()`;

const NEXT_FRAME = 'new Promise((resolve) => requestAnimationFrame(() => resolve(null)))';

export async function accessibilityProblems(
  page: Page,
  options: AccessibilityOptions = {},
): Promise<string[]> {
  const tabs = options.tabs ?? 15;
  const narrow = options.narrowWidth ?? 800;
  const problems: string[] = [];
  const where = new URL(page.url()).pathname;

  const { unnamed, h1s } = await page.evaluate<{ unnamed: string[]; h1s: string[] }>(STATIC_CHECKS);
  for (const control of unnamed)
    problems.push(`${where}: form control without an accessible name: ${control}`);
  if (h1s.length !== 1) {
    problems.push(
      `${where}: ${h1s.length} visible h1 elements, not 1${h1s.length ? `: ${h1s.join(' | ')}` : ''}`,
    );
  }

  const before = page.viewportSize() ?? { width: 1280, height: 900 };
  if (before.width !== narrow) {
    await page.setViewportSize({ width: narrow, height: before.height });
    await page.evaluate(NEXT_FRAME);
  }
  const scrollWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
  if (scrollWidth > narrow) {
    problems.push(`${where}: scrolls sideways at ${narrow} px (document scrollWidth ${scrollWidth})`);
  }
  if (before.width !== narrow) {
    await page.setViewportSize(before);
    await page.evaluate(NEXT_FRAME);
  }

  if (tabs > 0) {
    // from the top of the document, as a keyboard user arriving on the page; the test's own focus and
    // scroll position are given back afterwards
    await page.evaluate(KEEP_FOCUS);
    await page.evaluate(FROM_THE_TOP);
    const seen = new Set<string>();
    for (let i = 0; i < tabs; i++) {
      await page.keyboard.press('Tab');
      if (i === 0) await page.evaluate("document.getElementById('a11y-start')?.remove()");
      const focus = await page.evaluate<{
        key: string;
        what: string;
        focusVisible: boolean;
        shows: boolean;
      } | null>(FOCUS_CHECK);
      if (!focus) continue;
      if (seen.has(focus.key)) break;
      seen.add(focus.key);
      if (!focus.focusVisible || !focus.shows) {
        problems.push(`${where}: keyboard focus not visible on ${focus.what}`);
      }
    }
    await page.evaluate(RESTORE_FOCUS);
  }
  return problems;
}

/** Throws, listing every problem, unless the page passes the checks above. */
export async function expectAccessible(page: Page, options: AccessibilityOptions = {}): Promise<void> {
  const problems = await accessibilityProblems(page, options);
  if (problems.length > 0) {
    throw new Error(`Accessibility problems:\n  ${problems.join('\n  ')}`);
  }
}
