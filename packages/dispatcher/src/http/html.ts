import type { FastifyRequest } from 'fastify';

/** HTML for the dispatcher's pages: everything from users goes through `escapeHtml`. */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

/**
 * Strict: no inline script or style, nothing from other sites, no framing. `formTargets`: the
 * peers' own origins when they have them (a log-in's redirect ends there; browsers hold
 * form-action to the whole chain of redirects).
 */
export function securityHeaders(formTargets: readonly string[] = []) {
  const forms = ["'self'", ...formTargets].join(' ');
  return {
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action ${forms}`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  } as const;
}

/** A whole page; `body` is already HTML. */
export function page(title: string, body: string, scripts: readonly string[] = []): string {
  const tags = scripts.map((src) => `<script src="${escapeHtml(src)}" defer></script>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · p2p-messenger</title>
<link rel="stylesheet" href="/assets/dispatcher.css">${tags}
</head>
<body>
<main>
<h1>p2p-messenger</h1>
${body}
</main>
</body>
</html>
`;
}

export function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

export function problem(text: string | undefined): string {
  return text ? `<p class="problem" role="alert" data-testid="problem">${escapeHtml(text)}</p>` : '';
}

/** A person opening a page (a browser's navigation), not a script's call. */
export function isNavigation(request: FastifyRequest): boolean {
  if (request.method !== 'GET') return false;
  return request.headers['sec-fetch-mode'] === 'navigate' || (request.headers.accept ?? '').includes('text/html');
}

/** A browser's form post, or a page a person opens: answered with a page, not JSON. */
export function fromPage(request: FastifyRequest): boolean {
  const type = request.headers['content-type'] ?? '';
  return (
    type.startsWith('application/x-www-form-urlencoded') ||
    type.startsWith('multipart/form-data') ||
    isNavigation(request)
  );
}
