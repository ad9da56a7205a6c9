/** Any origin will do: only whether a value stays on it matters. */
const HERE = 'https://this.site';
const ELSEWHERE = 'https://other.site/a/b/';
const MAX_LENGTH = 2_048;
const MAX_DECODINGS = 4;

/**
 * Where a `next=` parameter may send the user: plainly a path on this site, else `fallback`.
 *
 * What is judged is the value that goes out (into `Location` or a form), not the one that
 * came in: dot segments, backslashes and percent-encoded dots collapse when a browser
 * resolves a URL, so "/.//x" and "/%2e%2e//x" come out as "//x", another host. The value
 * sent must be a plain path as it stands, resolve to itself on any base, and stay a plain
 * path once percent-decoded (as often as it decodes) and Unicode-normalised, so that no
 * router or proxy that decodes before it normalises can turn it into another host either.
 */
export function safeNext(next: unknown, fallback = '/'): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > MAX_LENGTH) return fallback;
  if (!isPlainPath(next)) return fallback;
  const resolved = new URL(next, HERE);
  if (resolved.origin !== HERE) return fallback;
  const out = `${resolved.pathname}${resolved.search}${resolved.hash}`;
  return out.length <= MAX_LENGTH && staysHere(out) ? out : fallback;
}

/** Starts with exactly one slash; nothing a browser reads as a slash, or drops, anywhere in it. */
function isPlainPath(value: string): boolean {
  if (!value.startsWith('/') || value.startsWith('//')) return false;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  return !/[\u0000-\u001f\u007f\\]/.test(value);
}

/** A resolved value: the same wherever it is resolved, and a plain path however often it is decoded. */
function staysHere(out: string): boolean {
  if (!isPlainPath(out)) return false;
  const here = new URL(out, HERE);
  if (here.origin !== HERE || `${here.pathname}${here.search}${here.hash}` !== out) return false;
  const elsewhere = new URL(out, ELSEWHERE);
  if (elsewhere.origin !== new URL(ELSEWHERE).origin || elsewhere.pathname !== here.pathname) return false;
  let path = here.pathname;
  for (let i = 0; i < MAX_DECODINGS && path.includes('%'); i++) {
    const decoded = percentDecoded(path);
    if (decoded === null || !decodesPlainly(decoded) || !decodesPlainly(decoded.normalize('NFKC'))) return false;
    path = decoded;
  }
  return !path.includes('%') || percentDecoded(path) === path;
}

/** A decoded path (perhaps also Unicode-normalised, as some routers do): still one plain path. */
function decodesPlainly(path: string): boolean {
  return isPlainPath(path) && !new URL(path, HERE).pathname.startsWith('//');
}

function percentDecoded(path: string): string | null {
  try {
    return decodeURIComponent(path);
  } catch {
    return null;
  }
}
