/**
 * Where a `next=` parameter may send the user: a path on this site, and nothing a browser
 * could read as another site. Browsers treat "//x", "/\x" and "\\x" as "//x" (another host),
 * and drop tabs and newlines inside URLs ("/\t/x" becomes "//x"), so all of those are refused,
 * as is anything with a scheme. Anything refused becomes `fallback`.
 */
export function safeNext(next: unknown, fallback = '/'): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > 2_048) return fallback;
  if (!next.startsWith('/')) return fallback;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\u0000-\u001f\u007f\\]/.test(next)) return fallback;
  if (next.startsWith('//')) return fallback;
  // Still a path on this site once a browser resolves it.
  const resolved = new URL(next, 'https://this.site');
  if (resolved.origin !== 'https://this.site') return fallback;
  return `${resolved.pathname}${resolved.search}${resolved.hash}`;
}
