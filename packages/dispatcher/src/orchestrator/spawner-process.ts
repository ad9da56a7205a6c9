/**
 * The dispatcher's spawner: a small process that starts peers for it. A fork copies the page
 * tables of the process that forks, and the parent waits until the child has exec'd: done by
 * the dispatcher itself, that held its event loop (and every log-in) for milliseconds to tens of
 * milliseconds per peer. Here it costs this process's time instead. It ends when the dispatcher
 * goes (the IPC channel closes), and ends its peers first; were it killed, they would see their
 * parent gone and end by themselves.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { trySetNiceness } from './niceness.js';
import type { SpawnerEvent, SpawnerRequest } from './spawner-protocol.js';

const children = new Map<number, ChildProcess>();
const send = (event: SpawnerEvent) => process.send?.(event);

function start(request: Extract<SpawnerRequest, { type: 'spawn' }>): void {
  const { key } = request;
  // P2PM_PARENT_PID: a peer that is still loading when this process goes knows it was orphaned.
  const env = { ...request.env, P2PM_PARENT_PID: String(process.pid) };
  const child = spawn(request.command, request.args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  children.set(key, child);
  if (request.niceness) trySetNiceness(child.pid, request.niceness);
  if (child.pid) send({ type: 'spawned', key, pid: child.pid });
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream].setEncoding('utf8').on('data', (chunk: string) => send({ type: stream, key, chunk }));
  }
  // A spawn that failed (no such command) ends the same way, with its reason on stderr.
  child.once('error', (err) => send({ type: 'stderr', key, chunk: `${err.message}\n` }));
  // 'close', not 'exit': all the child printed has been passed on by then.
  child.once('close', (code, signal) => {
    children.delete(key);
    send({ type: 'exit', key, code, signal });
  });
}

process.on('message', (request: SpawnerRequest) => {
  if (request.type === 'spawn') start(request);
  else children.get(request.key)?.kill(request.signal);
});
// The dispatcher went (a kill -9, say): its peers go too, at once; one still loading would only
// notice its new parent once it got that far, which at a low priority on a busy machine is late.
process.once('disconnect', () => {
  for (const child of children.values()) child.kill('SIGTERM');
  process.exit(0);
});
