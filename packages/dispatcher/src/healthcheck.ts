#!/usr/bin/env node
// The dispatcher image's HEALTHCHECK: its own /healthz answers, on the port its P2PM_*
// settings give (containers are configured through them).
import { homedir } from 'node:os';
import { loopbackFor, probeHealth } from '@p2p-messenger/peer';
import { parseDispatcherCommand } from './config/config.js';

const command = parseDispatcherCommand([], process.env, homedir());
if (command.kind !== 'run') process.exit(1);
const { host, port } = command.config;
process.exit((await probeHealth(`http://${loopbackFor(host)}:${port}/healthz`)) ? 0 : 1);
