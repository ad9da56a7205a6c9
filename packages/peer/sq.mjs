import { MessageStore } from './dist/store/message-store.js';
import { UlidGenerator } from './dist/util/ulid.js';
import fs from 'node:fs';
const ids = new UlidGenerator();
for (const per of [4, 256]) for (const size of [65536, 200]) {
  const f = '/tmp/prof/s.db'; for (const s of ['', '-wal', '-shm']) fs.rmSync(f + s, { force: true });
  const store = new MessageStore(f); store.checkpointOnCommit(process.argv[2] === 'ckpt');
  const text = 'x'.repeat(size); const total = size > 1000 ? 2048 : 32768;
  const t0 = process.hrtime.bigint(); const c0 = process.cpuUsage();
  let lam = 0;
  for (let i = 0; i < total / per; i++) {
    const batch = []; for (let j = 0; j < per; j++) batch.push({ id: ids.next(), senderId: 'me', peerId: 'you', conversationId: 'me:you', lamport: ++lam, sentAtMs: 1, text });
    store.insertOutgoing(batch);
  }
  const ins = Number(process.hrtime.bigint() - t0) / 1e6;
  const all = store.outbox('you', '', 1e9).map(r => r.id);
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < all.length; i += per) store.advanceOutgoing('me', all.slice(i, i + per), 2);
  const upd = Number(process.hrtime.bigint() - t1) / 1e6;
  const cpu = process.cpuUsage(c0);
  console.log(`per=${per} size=${size}: insert ${(ins * 1000 / total).toFixed(1)} us/msg, deliver ${(upd * 1000 / total).toFixed(1)} us/msg, user ${(cpu.user/1000).toFixed(0)}ms sys ${(cpu.system/1000).toFixed(0)}ms wal ${(fs.statSync(f + '-wal').size/1e6).toFixed(0)}MB`);
  store.close();
}
