import { describe, expect, it } from 'vitest';
import { safeNext } from '../src/index.js';

describe('next= redirects', () => {
  it('keep paths on this site, with their query and fragment', () => {
    expect(safeNext('/p/abc/')).toBe('/p/abc/');
    expect(safeNext('/admin?tab=pool#top')).toBe('/admin?tab=pool#top');
    expect(safeNext('/a/../b')).toBe('/b');
    expect(safeNext('/%2F%2Fevil.example')).toBe('/%2F%2Fevil.example');
  });

  it('send everything that could leave the site to the fallback', () => {
    for (const attack of [
      '//evil.example',
      '///evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      'https://this.site//evil.example',
      'https://evil.example/',
      'javascript:alert(1)',
      'evil.example',
      '/\t/evil.example',
      '/\n/evil.example',
      ' //evil.example',
      '',
      undefined,
      42,
      ['/'],
      `/${'a'.repeat(5_000)}`,
    ]) {
      expect(safeNext(attack, '/home')).toBe('/home');
    }
  });
});
