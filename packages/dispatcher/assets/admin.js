// The admin page: the peers and the pool, from the admin JSON API (Basic auth comes with the page).
const $ = (selector) => document.querySelector(selector);

async function call(method, path, body) {
  const init = { method, headers: { 'x-p2pm-admin': '1' } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || response.statusText);
  return data;
}

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function button(label, action) {
  const b = document.createElement('button');
  b.textContent = label;
  b.addEventListener('click', () => action().then(refresh, (err) => ($('#problem').textContent = err.message)));
  return b;
}

async function refresh() {
  const { pool, peers } = await call('GET', '/admin/api/peers');
  $('[data-testid="pool"]').textContent =
    `target ${pool.target}, vacant ${pool.vacant}, claimed ${pool.claimed}, starting ${pool.starting}, waiting ${pool.waiting}`;
  const target = $('[data-testid="pool-target"]');
  if (document.activeElement !== target) target.value = pool.target;
  $('tbody').replaceChildren(
    ...peers.map((peer) => {
      const row = document.createElement('tr');
      row.dataset.peerId = peer.id;
      row.append(
        cell(`${peer.name} (${peer.id.slice(0, 8)}…)`),
        cell(`${peer.state}, ${peer.instance}${peer.restarts ? `, ${peer.restarts} restarts` : ''}`),
        cell(peer.owner ?? ''),
        cell(peer.healthy ? 'healthy' : 'unhealthy'),
        cell(`${peer.ageS} s`),
      );
      const actions = document.createElement('td');
      if (peer.state === 'claimed')
        actions.append(button('Release', () => call('POST', `/admin/api/peers/${peer.id}/release`)));
      actions.append(button('Remove', () => call('DELETE', `/admin/api/peers/${peer.id}`)));
      row.append(actions);
      return row;
    }),
  );
}

$('#target').addEventListener('submit', (event) => {
  event.preventDefault();
  const target = Number($('[data-testid="pool-target"]').value);
  call('PUT', '/admin/api/pool', { target }).then(refresh, (err) => ($('#problem').textContent = err.message));
});
refresh().catch((err) => ($('#problem').textContent = err.message));
setInterval(() => refresh().catch(() => {}), 2000);
