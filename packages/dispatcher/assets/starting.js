// The progress page: live progress of the user's peer starting, then into it.
const text = document.querySelector('[data-testid="progress-text"]');
const bar = document.querySelector('[data-testid="progress"]');
const events = new EventSource('/starting/events');
const expectedMs = 2000;

events.addEventListener('progress', (event) => {
  const { position, elapsedMs } = JSON.parse(event.data);
  const seconds = (elapsedMs / 1000).toFixed(1);
  text.textContent =
    position > 1 ? `Waiting: ${position - 1} ahead of you (${seconds} s)` : `Starting your peer… ${seconds} s`;
  bar.value = Math.min(95, (100 * elapsedMs) / expectedMs);
});
events.addEventListener('ready', (event) => {
  events.close();
  bar.value = 100;
  text.textContent = 'Your peer is ready.';
  location.assign(JSON.parse(event.data).url);
});
events.addEventListener('busy', (event) => {
  events.close();
  const { retryAfterS } = JSON.parse(event.data);
  text.textContent = `Many peers are starting right now; trying again in ${retryAfterS} s.`;
  setTimeout(() => location.reload(), retryAfterS * 1000);
});
// No peer can be started now: said plainly, and the page stops waiting (the link tries again).
events.addEventListener('unavailable', (event) => {
  events.close();
  const { text: message } = JSON.parse(event.data);
  text.textContent = message;
  text.dataset.state = 'unavailable';
  bar.remove();
});
events.addEventListener('error', () => {
  text.textContent = 'Lost contact with the dispatcher; retrying…';
});
