import { describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io';
import { toClusterName } from '@knm/contracts';
import { SocketSubscription, type DeliveryLimits } from './socket-subscription.js';

const limits: DeliveryLimits = {
  maxBufferedMessages: 100,
  maxBufferedBytes: 1024 * 1024,
  slowSocketTimeoutMs: 60_000,
  maxUnackedBytes: 32 * 1024,
};

/** The parts of a Socket.IO socket a subscription touches: its engine.io connection's buffers and drain event. */
function fakeSocket(): { socket: Socket; writeBuffer: { data?: unknown }[] } {
  const writeBuffer: { data?: unknown }[] = [];
  const conn = { writeBuffer, transport: { socket: { bufferedAmount: 0 } }, on: () => conn, off: () => conn };
  return { socket: { id: 'socket-1', conn, connected: true } as unknown as Socket, writeBuffer };
}

function subscription(options: { maxRate?: number; takesParts?: boolean } = {}) {
  const clock = { t: 0 };
  const { socket, writeBuffer } = fakeSocket();
  const sub = new SocketSubscription(
    socket,
    toClusterName('dev'),
    10,
    options.maxRate,
    undefined,
    options.takesParts ?? false,
    limits,
    { flush: () => undefined },
    () => clock.t,
  );
  sub.place();
  return { sub, clock, writeBuffer };
}

describe('SocketSubscription.stalledMs', () => {
  it('counts how long a socket behind the log, with nothing unsent, was written nothing', () => {
    const { sub, clock } = subscription();
    clock.t = 31_000;
    expect(sub.stalledMs(10)).toBe(0);
    expect(sub.stalledMs(12)).toBe(31_000);
    sub.batchSent(12, 100);
    expect(sub.stalledMs(15)).toBe(0);
    clock.t = 40_000;
    expect(sub.stalledMs(15)).toBe(9_000);
  });

  it('leaves a socket that has not taken what it was sent to the slow-socket timeout', () => {
    const { sub, clock, writeBuffer } = subscription();
    writeBuffer.push({ data: 'a batch the peer has not read' });
    clock.t = 31_000;
    expect(sub.stalledMs(12)).toBe(0);
  });

  it('does not count what a client that acks has not acked yet, nor what its maxRate asks to wait', () => {
    const acking = subscription({ takesParts: true });
    acking.sub.batchSent(12, 100);
    acking.clock.t = 31_000;
    expect(acking.sub.stalledMs(15)).toBe(0);
    acking.sub.ack(12);
    expect(acking.sub.stalledMs(15)).toBe(31_000);

    const paced = subscription({ maxRate: 0.02 });
    paced.clock.t = 31_000;
    expect(paced.sub.stalledMs(12)).toBe(0);
    paced.clock.t = 81_000;
    expect(paced.sub.stalledMs(12)).toBe(31_000);
  });
});
