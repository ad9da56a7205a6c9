import { createSocket, type Socket } from 'node:dgram';
import { multicastInterfaces } from '../multicast/interfaces.js';

/** Keeps every datagram heard on a multicast group, as an eavesdropper on the LAN would. */
export class DatagramRecorder {
  readonly datagrams: Buffer[] = [];
  #socket: Socket | null = null;

  async start(family: 'ipv4' | 'ipv6', group: string, port: number): Promise<void> {
    if (this.#socket) return;
    const socket = createSocket({ type: family === 'ipv4' ? 'udp4' : 'udp6', reuseAddr: true });
    this.#socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port, address: family === 'ipv4' ? '0.0.0.0' : '::' }, () => resolve());
    });
    for (const iface of multicastInterfaces(family)) socket.addMembership(group, iface.socketAddress);
    socket.on('message', (datagram) => this.datagrams.push(datagram));
  }

  close(): void {
    this.#socket?.close();
    this.#socket = null;
  }
}
