/**
 * `next=` values for redirect tests: the known tricks of the open-redirect class, and many
 * generated from the pieces such tricks are made of (a seeded generator, so a failure can be
 * replayed from the seed it prints).
 */

/** Each one tries to leave the site (or to be read differently by something on the way). */
export const NEXT_TRICKS: readonly string[] = [
  '//evil.example',
  '///evil.example',
  '/\\evil.example',
  '\\\\evil.example',
  '\\/evil.example',
  '/.//evil.example',
  '/./\\evil.example',
  '/..//evil.example',
  '/a/..//evil.example',
  '/a/../..//evil.example',
  '/%2e//evil.example',
  '/%2E%2E//evil.example',
  '/%2e%2e/%2fevil.example',
  '/%2F%2Fevil.example',
  '/%2f/evil.example',
  '/%5c%5cevil.example',
  '/%5Cevil.example',
  '/%252f%252fevil.example',
  '/%25252f/evil.example',
  '/.%2f/evil.example',
  '/..%2f%2fevil.example',
  '/%2e%2e%2f%2fevil.example',
  '/\t/evil.example',
  '/\n/evil.example',
  '/.\t//evil.example',
  '/\u0000/evil.example',
  ' //evil.example',
  'https://evil.example/',
  'https://this.site//evil.example',
  'http:evil.example',
  'javascript:alert(1)',
  'evil.example',
  '/\uff0f/evil.example',
  '/\uff3cevil.example',
];

/** Values that are plainly paths of this site, which must survive. */
export const NEXT_PATHS: readonly string[] = ['/go', '/admin', '/admin?tab=pool#top', '/p/abc/', '/a/../go'];

const PIECES = [
  '/',
  '/',
  '/',
  '//',
  '\\',
  '.',
  '..',
  './',
  '../',
  '%2e',
  '%2E',
  '%2f',
  '%2F',
  '%5c',
  '%5C',
  '%252f',
  '%252e',
  '%25',
  '%',
  '\t',
  '\n',
  '\r',
  ' ',
  '\u0000',
  '@',
  ':',
  '?',
  '#',
  ';',
  '&next=',
  'evil.example',
  'evil.example:443',
  'http:',
  'https:',
  'javascript:',
  'p',
  'go',
  'admin',
  '\u3002',
  '\uff0f',
  '\uff3c',
  '\u2215',
];

/** A small, fast, seeded generator (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** `count` values made of 1 to 9 pieces, most starting with a slash. */
export function generatedNextValues(seed: number, count: number): string[] {
  const next = random(seed);
  const pick = () => PIECES[Math.floor(next() * PIECES.length)] as string;
  return Array.from({ length: count }, () => {
    let value = next() < 0.85 ? '/' : pick();
    const pieces = 1 + Math.floor(next() * 9);
    for (let i = 0; i < pieces; i++) value += pick();
    return value;
  });
}

/**
 * Whether `location` (what the server sent) keeps a browser on `base`'s site, judged by the
 * WHATWG URL parser: resolved against the page it came from and against the site's root.
 */
export function staysOnSite(location: string, base: string): boolean {
  const origin = new URL(base).origin;
  return [base, `${origin}/`, `${origin}/a/b/c`].every((from) => new URL(location, from).origin === origin);
}
