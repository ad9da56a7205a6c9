import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import { DiscoveryStartError } from '../errors.js';
import { type IpFamily, type MulticastInterface, multicastInterfaces } from './interfaces.js';

export interface ChannelOptions {
  families: readonly IpFamily[];
  ipv4Group: string;
  ipv6Group: string;
  port: number;
  /** Interface names; default: every non-loopback interface with an address of the family. */
  interfaces?: readonly string[];
}

/** A datagram to send: to the group on every interface, or to one address (unicast). */
export interface Outgoing {
  datagram: Buffer;
  to: 'group' | string;
}

interface Channel {
  family: IpFamily;
  group: string;
  socket: Socket;
  interfaces: MulticastInterface[];
}

/**
 * The sockets of a multicast directory, one per family, joined on its interfaces. Sends run
 * one batch after another, each built when its turn comes: the outgoing interface is a
 * socket option (one at a time), and a receiver must get one sender's timestamps in order.
 */
export class MulticastChannels {
  readonly #options: ChannelOptions;
  readonly #log: Logger;
  #channels: Channel[] = [];
  #sending: Promise<unknown> = Promise.resolve();
  /** Datagrams that left, counted once per interface. */
  #sent = 0;

  constructor(options: ChannelOptions, log: Logger) {
    this.#options = options;
    this.#log = log;
  }

  /** Opens a socket per family that has interfaces; fails when none can carry multicast. */
  async open(onDatagram: (datagram: Buffer, from: RemoteInfo) => void): Promise<void> {
    for (const family of this.#options.families) {
      const interfaces = multicastInterfaces(family, this.#options.interfaces);
      if (interfaces.length === 0) {
        this.#log.info({ family }, 'no interface for this family; not announcing on it');
        continue;
      }
      const channel = await this.#openChannel(family, interfaces, onDatagram);
      if (channel) this.#channels.push(channel);
    }
    if (this.#channels.length === 0) {
      throw new DiscoveryStartError(
        'no network interface can carry multicast (none is up with an address, or none could join the group); ' +
          'name one with --multicast-interface, or turn multicast discovery off',
      );
    }
  }

  async close(): Promise<void> {
    const closing = this.#channels.map(
      (channel) => new Promise<void>((resolve) => channel.socket.close(() => resolve())),
    );
    this.#channels = [];
    await Promise.all(closing);
  }

  get sent(): number {
    return this.#sent;
  }

  /** Builds datagrams when the sends before them are done, and sends them. */
  send(build: () => Outgoing[]): Promise<void> {
    const sent = this.#sending.then(() => this.#sendNow(build()));
    this.#sending = sent.catch(() => {});
    return sent;
  }

  async #sendNow(outgoing: Outgoing[]): Promise<void> {
    const port = this.#options.port;
    for (const { datagram, to } of outgoing) {
      if (to === 'group') {
        for (const channel of this.#channels) {
          for (const iface of channel.interfaces) {
            channel.socket.setMulticastInterface(iface.socketAddress);
            await sendOn(channel.socket, datagram, port, channel.group);
            this.#sent++;
          }
        }
      } else {
        const channel = this.#channels.find((c) => c.family === (to.includes(':') ? 'ipv6' : 'ipv4'));
        if (!channel) continue;
        await sendOn(channel.socket, datagram, port, to);
        this.#sent++;
      }
    }
  }

  /** The family's socket, joined on the interfaces that can join; null if none can. */
  async #openChannel(
    family: IpFamily,
    interfaces: MulticastInterface[],
    onDatagram: (datagram: Buffer, from: RemoteInfo) => void,
  ): Promise<Channel | null> {
    const group = family === 'ipv4' ? this.#options.ipv4Group : this.#options.ipv6Group;
    const socket = createSocket(
      family === 'ipv4' ? { type: 'udp4', reuseAddr: true } : { type: 'udp6', reuseAddr: true, ipv6Only: true },
    );
    const { port } = this.#options;
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ port, address: family === 'ipv4' ? '0.0.0.0' : '::' }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      socket.setMulticastLoopback(true);
      // One hop: announcements stay on the local network.
      socket.setMulticastTTL(1);
    } catch (err) {
      socket.close();
      await this.close();
      throw new DiscoveryStartError(
        `cannot listen for ${family} multicast on ${group} port ${port}: ${(err as Error).message}`,
      );
    }
    // An interface that cannot join (no multicast, an alias already joined) is left out
    // rather than failing the peer; with none left the family is not used.
    const joined = interfaces.filter((iface) => {
      try {
        socket.addMembership(group, iface.socketAddress);
        return true;
      } catch (err) {
        this.#log.warn({ family, interface: iface.name, err: (err as Error).message }, 'cannot join the group here');
        return false;
      }
    });
    if (joined.length === 0) {
      socket.close();
      return null;
    }
    socket.on('message', onDatagram);
    socket.on('error', (err) => this.#log.warn({ err, family }, 'multicast socket error'));
    this.#log.info({ family, group, port, interfaces: joined.map((i) => i.name) }, 'multicast listening');
    return { family, group, socket, interfaces: joined };
  }
}

function sendOn(socket: Socket, datagram: Buffer, port: number, address: string): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    socket.send(datagram, port, address, (err) => (err ? reject(err) : resolve())),
  );
}
