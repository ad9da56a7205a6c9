#!/usr/bin/env node
// The peer image's HEALTHCHECK: the owner's web server answers. It reads the same P2PM_*
// settings as the peer (containers are configured through them), so it probes the same port.
import { loopbackFor, probeHealth } from '../util/health-probe.js';
import { currentSystem, parseCommandLine } from './config.js';

const command = parseCommandLine([], process.env, currentSystem());
const web = command.kind === 'run' ? command.config.web : null;
if (command.kind !== 'run' || !web) {
  process.stderr.write('healthcheck: no web server configured (P2PM_WEB_PORT)\n');
  process.exit(1);
}
const healthy = await probeHealth(`http://${loopbackFor(command.config.listen)}:${web.port}/healthz`);
process.exit(healthy ? 0 : 1);
