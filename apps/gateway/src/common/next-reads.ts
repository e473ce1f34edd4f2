/**
 * Reads shared by the requests that arrive while one is in flight, without ever
 * answering a request with a read sent before it arrived (a write may have landed
 * in between): a request joins the NEXT read of its key, which starts once the one in
 * flight has answered, and which every request arriving meanwhile shares. So what a
 * request gets is never older than the state at its arrival, and a key has at most
 * two reads outstanding whatever the request rate. The cost: up to one extra round
 * trip of waiting under load.
 */
export class NextReads<K, V> {
  private readonly inflight = new Map<K, Promise<V>>();
  private readonly queued = new Map<K, Promise<V>>();

  constructor(private readonly read: (key: K) => Promise<V>) {}

  /** `read(key)` as of a read sent after this call. */
  get(key: K): Promise<V> {
    const queued = this.queued.get(key);
    if (queued) return queued;
    const running = this.inflight.get(key);
    if (!running) return this.start(key);
    const next = running
      .catch(() => undefined)
      .then(() => {
        this.queued.delete(key);
        return this.start(key);
      });
    this.queued.set(key, next);
    return next;
  }

  private start(key: K): Promise<V> {
    const reading = this.read(key).finally(() => {
      if (this.inflight.get(key) === reading) this.inflight.delete(key);
    });
    this.inflight.set(key, reading);
    return reading;
  }
}
