#!/usr/bin/env node
// `pnpm swarm:down`: removes the stack of `swarm:up` and the peer services its dispatcher
// started (labelled with its pool), waits until their containers are gone, removes the
// network. Users' volumes stay (the same peers come back at the next swarm:up) unless --purge,
// which removes every volume, config and secret of the pool. Progress on stderr.
import { rm } from 'node:fs/promises';
import {
  connect,
  log,
  POOL_LABEL,
  ROLE_LABEL,
  removeServices,
  runAsCommand,
  runDocker,
  STACK_LABEL,
  stateDir,
  waitUntil,
} from './engine.mjs';
import { DOWN_FLAGS, parseFlags, usage } from './flags.mjs';

/** The pool a deployed dispatcher serves, from its own settings. */
function poolOf(services) {
  for (const service of services) {
    const env = service.Spec?.TaskTemplate?.ContainerSpec?.Env ?? [];
    const setting = env.find((line) => line.startsWith('P2PM_POOL_NAME='));
    if (setting) return setting.slice('P2PM_POOL_NAME='.length);
  }
  return null;
}

/** Removes what matches, retrying while the engine still holds it (a volume just released). */
async function removeAll(kind, list, remove, timeoutMs) {
  const names = [];
  for (const item of list) {
    await waitUntil(
      () =>
        remove(item).then(
          () => true,
          (err) => {
            if (err.statusCode === 404) return true;
            if (err.statusCode === 409) return false;
            throw err;
          },
        ),
      { timeoutMs, what: `the ${kind} ${item.name} to be released` },
    );
    names.push(item.name);
  }
  if (names.length > 0) log(`removed ${names.length} ${kind}(s): ${names.join(', ')}`);
  return names;
}

async function purge(docker, stack, pool, timeoutMs) {
  const byPool = { label: [`${POOL_LABEL}=${pool}`] };
  const byStack = { label: [`${STACK_LABEL}=${stack}`] };
  const volumes = [
    ...((await docker.listVolumes({ filters: byPool })).Volumes ?? []),
    ...((await docker.listVolumes({ filters: byStack })).Volumes ?? []),
  ];
  const unique = [...new Map(volumes.map((v) => [v.Name, { name: v.Name }])).values()];
  const configs = (await docker.listConfigs({ filters: byPool })).map((c) => ({ id: c.ID, name: c.Spec?.Name }));
  const secrets = (await docker.listSecrets({ filters: byPool })).map((s) => ({ id: s.ID, name: s.Spec?.Name }));
  await removeAll('volume', unique, (v) => docker.getVolume(v.name).remove(), timeoutMs);
  await removeAll('config', configs, (c) => docker.getConfig(c.id).remove(), timeoutMs);
  await removeAll('secret', secrets, (s) => docker.getSecret(s.id).remove(), timeoutMs);
  await rm(stateDir(stack), { recursive: true, force: true });
}

async function main(argv) {
  const flags = parseFlags(argv, DOWN_FLAGS);
  if (flags.help) return void process.stdout.write(usage('down', DOWN_FLAGS));
  const docker = await connect();
  const byStack = { label: [`${STACK_LABEL}=${flags.stack}`] };
  const stackServices = await docker.listServices({ filters: byStack });
  const pool = flags.pool ?? poolOf(stackServices) ?? 'local';
  // The dispatcher first: while it runs, it starts peers again to keep its pool full.
  if (stackServices.length > 0) {
    log(`removing the services of the stack ${flags.stack}`);
    await removeServices(docker, stackServices, flags.timeoutMs);
  }
  const peers = await docker.listServices({ filters: { label: [`${POOL_LABEL}=${pool}`, `${ROLE_LABEL}=peer`] } });
  if (peers.length > 0) {
    log(`removing the ${peers.length} peer service(s) of the pool ${pool}`);
    await removeServices(docker, peers, flags.timeoutMs);
  }
  // Networks, secrets and configs of the stack (its services are gone, so none is in use).
  const networks = await docker.listNetworks({ filters: byStack });
  const secrets = await docker.listSecrets({ filters: byStack });
  if (stackServices.length + networks.length + secrets.length > 0) {
    // `docker stack rm` may fail on a network whose last endpoints the engine is still releasing:
    // then the networks are removed here, once free.
    await runDocker(['stack', 'rm', flags.stack]).catch((err) => log(err.message));
    await waitUntil(
      async () => {
        const left = await docker.listNetworks({ filters: byStack });
        for (const network of left)
          await docker
            .getNetwork(network.Id)
            .remove()
            .catch(() => {});
        return left.length === 0;
      },
      { timeoutMs: flags.timeoutMs, what: `the networks of the stack ${flags.stack} to go`, intervalMs: 1_000 },
    );
  } else {
    log(`no stack ${flags.stack} on this engine`);
  }
  if (flags.purge) await purge(docker, flags.stack, pool, flags.timeoutMs);
  const kept = flags.purge
    ? []
    : ((await docker.listVolumes({ filters: { label: [`${POOL_LABEL}=${pool}`] } })).Volumes ?? []);
  process.stdout.write(
    [
      stackServices.length + networks.length + secrets.length > 0
        ? `removed: stack ${flags.stack}, ${peers.length} peer service(s) of the pool ${pool}`
        : `no stack ${flags.stack} was deployed; removed ${peers.length} peer service(s) of the pool ${pool}`,
      flags.purge
        ? '  purged: every volume, config and secret of the pool, and the admin password'
        : `  kept: ${kept.length} volume(s) of the pool (users' data; swarm:up brings the same peers back, --purge removes them)`,
      '',
    ].join('\n'),
  );
}

await runAsCommand(import.meta.url, main);
