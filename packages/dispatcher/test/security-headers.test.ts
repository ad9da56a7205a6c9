import { describe, expect, it } from 'vitest';
import { securityHeaders } from '../src/http/html.js';

describe('the dispatcher’s page headers', () => {
  it('let its forms lead only to itself, and to the peers’ hosts when peers have hosts of their own', () => {
    expect(securityHeaders()['content-security-policy']).toMatch(/; form-action 'self'$/);
    // Chromium holds form-action to the redirects after a post: a log-in ends on the peer's host.
    expect(securityHeaders(['https://*.peers.example.org'])['content-security-policy']).toMatch(
      /; form-action 'self' https:\/\/\*\.peers\.example\.org$/,
    );
    expect(securityHeaders(['https://*.peers.example.org'])['content-security-policy']).toMatch(
      /^default-src 'none'; script-src 'self';/,
    );
  });
});
