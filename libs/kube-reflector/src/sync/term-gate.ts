/**
 * Where the engine stands with Redis:
 * - `standby`: no writer (not leading); the caches stay warm, nothing is written;
 * - `reconciling`: leading, and Redis is not known to equal the caches yet (waiting
 *   for both lists, or the term's first reconcile is due);
 * - `serving`: Redis equals the caches as of the last write; changes are written as
 *   they come;
 * - `repairing`: a write failed, so Redis' state is unknown; changes only reach the
 *   caches until the scheduled reconcile has written the differences.
 */
export type SyncState = 'standby' | 'reconciling' | 'serving' | 'repairing';

/**
 * The writer of the current leadership term and its {@link SyncState}. Each `begin`
 * starts a term, each `end` closes it; work decided in a term carries its number and
 * gets the writer only while that term is current, so nothing decided in an ended
 * term reaches Redis.
 */
export class TermGate<W> {
  private termValue = 0;
  private writerValue: W | undefined;
  private stateValue: SyncState = 'standby';

  constructor(private readonly onState: (state: SyncState, previous: SyncState) => void = () => undefined) {}

  /** The current term's number (bumped by every begin and end). */
  get term(): number {
    return this.termValue;
  }

  get state(): SyncState {
    return this.stateValue;
  }

  /** True while a term is open (leading). */
  get open(): boolean {
    return this.writerValue !== undefined;
  }

  /** Opens a term with `writer`: it starts `reconciling`. Returns the term's number. */
  begin(writer: W): number {
    this.termValue += 1;
    this.writerValue = writer;
    this.set('reconciling');
    return this.termValue;
  }

  /** Closes the current term (lease lost, fenced, shutting down): back to `standby`. */
  end(): void {
    this.termValue += 1;
    this.writerValue = undefined;
    this.set('standby');
  }

  /** The writer, if `term` is still the current term. */
  writerFor(term: number): W | undefined {
    return term === this.termValue ? this.writerValue : undefined;
  }

  /** True when `term` is current and serving. */
  serving(term: number): boolean {
    return term === this.termValue && this.stateValue === 'serving';
  }

  /** Moves the current term to `state`; ignored for a term that has ended. */
  enter(term: number, state: Exclude<SyncState, 'standby'>): void {
    if (term === this.termValue && this.writerValue !== undefined) this.set(state);
  }

  private set(state: SyncState): void {
    const previous = this.stateValue;
    if (previous === state) return;
    this.stateValue = state;
    this.onState(state, previous);
  }
}
