import { describe, expect, it } from 'vitest';
import { safeNext } from '../src/index.js';
import { generatedNextValues, NEXT_PATHS, NEXT_TRICKS, staysOnSite } from './helpers/next-values.js';

const SITE = 'https://chat.example.org/';
const SEED = 0x5eed_2026;

describe('next= redirects', () => {
  it('keep paths on this site, with their query and fragment', () => {
    expect(safeNext('/p/abc/')).toBe('/p/abc/');
    expect(safeNext('/admin?tab=pool#top')).toBe('/admin?tab=pool#top');
    expect(safeNext('/a/../b')).toBe('/b');
    expect(safeNext('/a b')).toBe('/a%20b');
    for (const path of NEXT_PATHS) expect(safeNext(path, '/home'), path).not.toBe('/home');
  });

  it('send every trick of the class to the fallback', () => {
    for (const trick of NEXT_TRICKS) expect(safeNext(trick, '/home'), JSON.stringify(trick)).toBe('/home');
    for (const other of ['', undefined, 42, ['/'], `/${'a'.repeat(5_000)}`])
      expect(safeNext(other, '/home')).toBe('/home');
  });

  it('judge what goes out: dot segments that collapse into "//" are refused', () => {
    // The value that came in is a path; what a browser resolves it to is another host.
    expect(new URL('/.//evil.example', SITE).pathname).toBe('//evil.example');
    expect(safeNext('/.//evil.example', '/home')).toBe('/home');
    expect(safeNext('/%2e%2e//evil.example', '/home')).toBe('/home');
  });

  it('never give a value that resolves to another origin, for any generated input', () => {
    const values = generatedNextValues(SEED, 20_000);
    let kept = 0;
    for (const value of values) {
      const out = safeNext(value, '/home');
      const context = `seed ${SEED}: ${JSON.stringify(value)} -> ${JSON.stringify(out)}`;
      expect(staysOnSite(out, SITE), context).toBe(true);
      expect(out.startsWith('/') && !out.startsWith('//'), context).toBe(true);
      // Judging again changes nothing: what goes out is a fixed point (repeated resolution).
      expect(safeNext(out, '/other'), context).toBe(out);
      if (out !== '/home') kept++;
    }
    // The generator does make plain paths too: the check is not refusing everything.
    expect(kept).toBeGreaterThan(values.length / 20);
  });
});
