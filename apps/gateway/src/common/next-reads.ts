/** Default of {@link NextReads}' `maxInFlight`: reads of one key outstanding at once. */
const DEFAULT_MAX_IN_FLIGHT = 4;

/** The flushes of every {@link NextReads} with requests waiting in this turn of the event loop. */
const flushes = new Set<() => void>();

/**
 * Runs `flush` once the event loop has handled every request of its current poll
 * phase (a `setImmediate`), together with the flushes of every other
 * {@link NextReads}: their reads are issued in one synchronous run, so ioredis's
 * autopipelining writes them to Redis in one pipeline (a request's auth-failure
 * peek and its cluster's position cost one round trip, not two).
 */
function atEndOfTurn(flush: () => void): void {
  if (flushes.size === 0) {
    setImmediate(() => {
      const due = [...flushes];
      flushes.clear();
      for (const f of due) f();
    });
  }
  flushes.add(flush);
}

/** A read that requests are joining, not sent yet. */
interface Batch<V> {
  promise: Promise<V>;
  resolve: (value: V) => void;
  reject: (err: unknown) => void;
}

/**
 * Reads shared by the requests that arrive together, without ever answering a
 * request with a read sent before it arrived (a write may have landed in between):
 * a request joins the read of its key that is sent at the end of the current turn of
 * the event loop, after every request of that turn has arrived, and that every
 * request of the turn shares. So what a request gets is never older than the state
 * at its arrival, and a turn costs one read per key whatever its number of requests.
 * A read in flight is never joined; a new turn's requests do not wait for it either
 * (waiting for it and then for a read of their own made every request under load
 * wait one and a half round trips on average, and the gateway's throughput was
 * bounded by that wait), unless `maxInFlight` reads of the key are outstanding: then
 * the turn's read is sent when one of them has answered.
 */
export class NextReads<K, V> {
  private readonly open = new Map<K, Batch<V>>();
  private readonly inFlight = new Map<K, number>();
  private readonly flush = (): void => {
    for (const [key, batch] of this.open) {
      if ((this.inFlight.get(key) ?? 0) < this.maxInFlight) this.send(key, batch);
    }
  };

  constructor(
    private readonly read: (key: K) => Promise<V>,
    /** Reads of one key outstanding at once; default {@link DEFAULT_MAX_IN_FLIGHT}. */
    private readonly maxInFlight = DEFAULT_MAX_IN_FLIGHT,
  ) {}

  /** `read(key)` as of a read sent after this call. */
  get(key: K): Promise<V> {
    const open = this.open.get(key);
    if (open) return open.promise;
    let resolve!: (value: V) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<V>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.open.set(key, { promise, resolve, reject });
    atEndOfTurn(this.flush);
    return promise;
  }

  private send(key: K, batch: Batch<V>): void {
    this.open.delete(key);
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    let reading: Promise<V>;
    try {
      reading = this.read(key);
    } catch (err) {
      reading = Promise.reject(err);
    }
    reading.then(batch.resolve, batch.reject).finally(() => {
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left > 0) this.inFlight.set(key, left);
      else this.inFlight.delete(key);
      // A batch held back by the bound: every request in it arrived before this answer.
      const waiting = this.open.get(key);
      if (waiting) this.send(key, waiting);
    });
  }
}
