/** A selector that matches no node of the cluster: nothing to operate on. */
export class EmptySelectionError extends Error {
  override readonly name = 'EmptySelectionError';

  constructor(
    readonly cluster: string,
    readonly selector: string,
  ) {
    super(`selector "${selector}" matches no node of cluster "${cluster}"`);
  }
}
