import type { NodeStoreWriter } from '@knm/node-store';

/** Something that runs only while this replica leads: started with the term's writer, stopped when the term ends. */
export interface LeaderService {
  start(): Promise<void> | void;
  stop(): Promise<void>;
}

/**
 * Runs the leader-only services beside the sync (the pod-list responder, the usage
 * poller): `lead` starts a fresh set with the new term's writer, `standBy` stops it.
 * Starts and stops run one after another, so a term's services are stopped before
 * the next term's start; a service that fails to start is reported and left out.
 */
export class LeaderServices {
  private running: LeaderService[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly create: (writer: NodeStoreWriter) => LeaderService[],
    private readonly onError: (error: Error) => void,
  ) {}

  /** Stops the previous term's services and starts new ones writing through `writer`. */
  lead(writer: NodeStoreWriter): void {
    void this.standBy();
    const services = this.create(writer);
    this.running = services;
    this.chain = this.chain.then(async () => {
      for (const service of services) {
        if (this.running !== services) return; // the term ended before it started
        try {
          await service.start();
        } catch (err) {
          this.onError(err instanceof Error ? err : new Error(String(err)));
        }
      }
    });
  }

  /** Stops the current services; resolves once they (and any start in progress) are done. */
  standBy(): Promise<void> {
    const services = this.running;
    this.running = [];
    this.chain = this.chain.then(async () => {
      await Promise.all(services.map((s) => s.stop().catch((err: unknown) => this.onError(err as Error))));
    });
    return this.chain;
  }
}
