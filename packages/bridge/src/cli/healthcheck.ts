#!/usr/bin/env node
// The bridge image's HEALTHCHECK: its own /healthz answers, on the ops port its P2PM_BRIDGE_*
// settings give (containers are configured through them).
import { homedir } from 'node:os';
import { loopbackFor, probeHealth } from '@p2p-messenger/peer';
import { parseBridgeCommand } from './config.js';

const command = parseBridgeCommand([], process.env, homedir());
const ops = command.kind === 'run' ? command.config.ops : null;
if (!ops) {
  process.stderr.write('healthcheck: no ops server configured (P2PM_BRIDGE_OPS_PORT)\n');
  process.exit(1);
}
process.exit((await probeHealth(`http://${loopbackFor(ops.host)}:${ops.port}/healthz`)) ? 0 : 1);
