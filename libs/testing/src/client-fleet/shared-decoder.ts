import { Decoder, Encoder, PacketType, type Packet } from 'socket.io-parser';

/** Frames shorter than this are decoded per client (connects, acks, small events): not worth a lookup. */
const MIN_SHARED_LENGTH = 256;
/** Distinct frame texts remembered (the latest first to go is the oldest). */
const MAX_REMEMBERED = 64;

/** The last event frames decoded in this process, by their text. */
const remembered = new Map<string, Packet>();

/** Decodes one frame with a decoder of its own, to capture the packet. */
const once = new Decoder();
let captured: Packet | undefined;
once.on('decoded', (packet: Packet) => {
  captured = packet;
});

/**
 * A socket.io decoder for the client fleet: an event frame whose text this process
 * decoded a moment ago (the same broadcast reaching its other clients) is handed over
 * as the packet decoded then, instead of being parsed again.
 *
 * A real client decodes every frame on its own CPU; a thousand simulated clients in
 * one process would otherwise spend that process's core parsing the same text a
 * thousand times (a profile of 1,000 clients at churn 100/s: 36% `JSON.parse` in the
 * parser, the process 94% busy and falling seconds behind), so the latency the bench
 * measured was the fleet's, not the gateway's. Each client still receives its own
 * bytes over its own websocket and turns them into text; only the parse is shared.
 * The shared packet is read, never changed: the fleet's handlers only read
 * envelopes, and only events without an ack id (which socket.io-client would append
 * to the arguments) are shared.
 */
class SharedDecoder extends Decoder {
  override add(obj: unknown): void {
    if (
      typeof obj !== 'string' ||
      obj.length < MIN_SHARED_LENGTH ||
      obj.charCodeAt(0) !== 50 /* '2': EVENT */
    ) {
      super.add(obj);
      return;
    }
    let packet = remembered.get(obj);
    if (!packet) {
      captured = undefined;
      once.add(obj);
      packet = captured as Packet | undefined;
      if (!packet || packet.type !== PacketType.EVENT || packet.id !== undefined) {
        super.add(obj);
        return;
      }
      remembered.set(obj, packet);
      if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
    }
    this.emitReserved('decoded', packet);
  }
}

/** The fleet clients' socket.io `parser` option. */
export const sharedParser = { Encoder, Decoder: SharedDecoder };
