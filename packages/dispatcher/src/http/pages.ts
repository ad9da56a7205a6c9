import { escapeHtml, hidden, page, problem } from './html.js';

export interface LoginView {
  csrf: string;
  next: string;
  guests: boolean;
  username?: string;
  problem?: string;
}

export function loginPage(view: LoginView): string {
  const guest = view.guests
    ? `<form method="post" action="/guest" class="guest">
${hidden('_csrf', view.csrf)}${hidden('next', view.next)}
<button type="submit" data-testid="guest">Login as a guest</button>
<p class="hint">A guest's account lives in this browser's cookie: log out and it is gone.</p>
</form>`
    : '';
  return page(
    'Log in',
    `<p>Log in and get your own peer: a messenger that talks to other peers directly.</p>
${problem(view.problem)}
<form method="post" action="/login">
${hidden('_csrf', view.csrf)}${hidden('next', view.next)}
<label>User name <input name="username" data-testid="username" autocomplete="username" value="${escapeHtml(view.username ?? '')}" required maxlength="32"></label>
<label>Password <input type="password" name="password" data-testid="password" autocomplete="current-password" required maxlength="1024"></label>
<div class="buttons">
<button type="submit" data-testid="login">Log in</button>
<button type="submit" formaction="/signup" data-testid="signup">Sign up</button>
</div>
</form>
${guest}`,
  );
}

export function homePage(view: { username: string; csrf: string; hasPeer: boolean }): string {
  return page(
    'Your peer',
    `<p>Logged in as <strong data-testid="current-user">${escapeHtml(view.username)}</strong>.</p>
<p><a class="button" href="/go" data-testid="open-peer">${view.hasPeer ? 'Open your peer' : 'Get your peer'}</a></p>
<form method="post" action="/logout">${hidden('_csrf', view.csrf)}<button type="submit" data-testid="logout">Log out</button></form>`,
  );
}

export function startingPage(): string {
  return page(
    'Starting your peer',
    `<p data-testid="progress-text" aria-live="polite">Starting your peer…</p>
<progress data-testid="progress" max="100"></progress>
<p class="hint">This takes a few seconds. <a href="/go">Continue</a> if nothing happens.</p>`,
    ['/assets/starting.js'],
  );
}

/** What a user is told when no peer can be started for them (the page, and the progress page's script). */
export const PEERS_UNAVAILABLE_TEXT =
  'Peers cannot be started right now. The operator has been told; try again in a few minutes.';

export function messagePage(title: string, text: string, link?: { href: string; label: string }): string {
  const a = link ? `<p><a href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></p>` : '';
  return page(title, `${problem(text)}${a}`);
}

/** What a person is told when a page's form (or a page) fails, by status. */
export function errorPage(status: number): string {
  const [title, text] =
    status === 413
      ? ['Too large', 'What you sent is more than this form takes. Go back and send less.']
      : status >= 500
        ? ['Something went wrong', 'Something went wrong on our side. Try again in a moment.']
        : ['Bad request', 'The form could not be read. Go back, reload the page and try again.'];
  return messagePage(title, text, { href: '/', label: 'Start page' });
}
