// The chat page of one peer. Everything from the network goes into the page as text
// (textContent), never as HTML. URLs are relative: the page works under /p/<peerId>/ too.
const MARKS = { queued: '… queued', sent: '✓ sent', delivered: '✓✓ delivered', read: '✓✓ read', failed: '✗ failed' };
// `current` is the conversation asked for, `shown` the one whose history is on screen.
const view = { me: null, peers: new Map(), current: null, shown: null, messages: [] };
const $ = (selector) => document.querySelector(selector);

async function api(path, init) {
  const response = await fetch(path, { credentials: 'same-origin', ...init });
  if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error || response.statusText);
  return response.json();
}

function element(tag, attributes, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function statusText(peer) {
  if (peer.status === 'online') return peer.path?.kind === 'bridge' ? 'online via bridge' : 'online';
  const seen = peer.lastSeenMs > 0 ? `seen ${new Date(peer.lastSeenMs).toLocaleString()}` : 'never seen';
  return `${peer.status}, ${seen}`;
}

function renderPeers() {
  const list = $('[data-testid="peer-list"]');
  list.replaceChildren(
    ...[...view.peers.values()]
      .sort((a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name))
      .map((peer) => {
        const item = element('li', { 'data-testid': 'peer-item', 'data-peer-id': peer.id }, peer.name);
        if (peer.id === view.shown) item.classList.add('current');
        const status = element('span', { class: 'status', 'data-path': peer.path?.kind ?? 'none' }, statusText(peer));
        if (peer.path?.kind === 'bridge') status.title = `through bridge ${peer.path.bridgeId}`;
        item.append(status);
        if (peer.unread > 0 && peer.id !== view.current)
          item.append(element('span', { class: 'unread' }, String(peer.unread)));
        item.addEventListener('click', () => open(peer.id));
        return item;
      }),
  );
}

function renderMessages() {
  const list = $('[data-testid="message-list"]');
  list.replaceChildren(
    ...view.messages.map((message) => {
      const item = element('li', {
        'data-testid': 'message',
        'data-state': message.state,
        'data-message-id': message.id,
      });
      item.classList.add(message.outgoing ? 'outgoing' : 'incoming');
      item.append(document.createTextNode(message.text));
      if (message.outgoing) item.append(element('span', { class: 'state' }, MARKS[message.state] || message.state));
      return item;
    }),
  );
  list.lastElementChild?.scrollIntoView({ block: 'end' });
}

/**
 * Runs `load`, and once more after it when `changed()` was called meanwhile: an event that
 * crossed a load in flight may be missing from its answer. A run asked for during one joins it.
 */
function loader(load) {
  let running = null;
  let again = false;
  const run = () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await load();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
  return {
    run,
    changed: () => {
      if (running) again = true;
    },
  };
}

const peerList = loader(async () => {
  const peers = await api('api/peers');
  view.peers = new Map(peers.map((peer) => [peer.id, peer]));
  renderPeers();
});

const conversation = loader(async () => {
  const peerId = view.current;
  if (!peerId) return;
  const history = await api(`api/history/${encodeURIComponent(peerId)}`);
  // The user went on to another conversation meanwhile: the run after this one loads it.
  if (peerId !== view.current) return;
  view.messages = history;
  view.shown = peerId;
  renderMessages();
});

async function open(peerId) {
  view.current = peerId;
  if (peerId !== view.shown) {
    view.shown = null;
    view.messages = [];
    renderMessages();
  }
  const peer = view.peers.get(peerId);
  $('#conversation-title').textContent = peer ? peer.name : peerId;
  $('#their-fingerprint').textContent = peer ? `their fingerprint: ${peer.fingerprint}` : '';
  $('[data-testid="message-input"]').disabled = false;
  $('[data-testid="send-button"]').disabled = false;
  await conversation.run();
  await markRead();
}

async function markRead() {
  if (!view.current || document.hidden) return;
  await api(`api/read/${encodeURIComponent(view.current)}`, { method: 'POST' }).catch(() => {});
  const peer = view.peers.get(view.current);
  if (peer) peer.unread = 0;
  renderPeers();
}

async function send(event) {
  event.preventDefault();
  const input = $('[data-testid="message-input"]');
  const text = input.value;
  if (!view.current || text.trim() === '') return;
  try {
    const record = await api('api/send', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ peerId: view.current, text }),
    });
    input.value = '';
    $('#problem').textContent = '';
    if (!view.messages.some((m) => m.id === record.id)) view.messages.push(record);
    renderMessages();
  } catch (err) {
    $('#problem').textContent = `not sent: ${err.message}`;
  }
}

function showProblem(err) {
  $('#problem').textContent = `cannot load: ${err.message}`;
}

/**
 * Live updates. The stream is open before anything is loaded again: what changes after the
 * load comes as an event, and an event that crosses a load makes it run once more. Every
 * (re)connection loads again what a stream that was down may have missed.
 */
function listen() {
  const events = new EventSource('api/events');
  events.addEventListener('open', () => {
    peerList.run().catch(showProblem);
    conversation.run().catch(showProblem);
  });
  events.addEventListener('message', (event) => {
    const message = JSON.parse(event.data);
    peerList.changed();
    if (message.peerId === view.current) {
      conversation.changed();
      if (!view.messages.some((m) => m.id === message.id)) view.messages.push(message);
      renderMessages();
      void markRead();
      return;
    }
    const peer = view.peers.get(message.peerId);
    if (peer) {
      peer.unread += 1;
      renderPeers();
    }
  });
  events.addEventListener('state', (event) => {
    const change = JSON.parse(event.data);
    if (change.peerId !== view.current) return;
    conversation.changed();
    const message = view.messages.find((m) => m.id === change.messageId);
    if (message) {
      message.state = change.state;
      renderMessages();
    } else {
      // A message this page has not been told of yet (its send is still being answered).
      conversation.run().catch(showProblem);
    }
  });
  events.addEventListener('peer', (event) => {
    const peer = JSON.parse(event.data);
    peerList.changed();
    view.peers.set(peer.id, { ...view.peers.get(peer.id), ...peer });
    renderPeers();
  });
}

async function start() {
  view.me = await api('api/self');
  $('[data-testid="my-peer-id"]').textContent = view.me.id;
  $('[data-testid="my-fingerprint"]').textContent = view.me.fingerprint;
  $('#composer').addEventListener('submit', send);
  document.addEventListener('visibilitychange', () => void markRead());
  listen();
  await peerList.run();
}

start().catch(showProblem);
