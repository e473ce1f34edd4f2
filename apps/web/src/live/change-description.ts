import type { ChangeEvent } from '@knm/client';

/** A change worth telling a person about: which node and what happened to it. */
export interface ChangeNote {
  node: string;
  /** What changed, in the words of a toast: `labels updated on node-12`. */
  text: string;
  /** The aspects (`labels`, `taints`, ...), or `added` / `removed`. */
  kinds: string[];
}

/**
 * Describes an applied envelope for toasts and the drawer's "recent changes", or
 * returns undefined for those not worth a toast: pod counts, allocation and usage
 * (they move all the time; the rows update silently) and cluster status (the
 * switcher shows it).
 */
export function describeChange(event: ChangeEvent): ChangeNote | undefined {
  const { envelope } = event;
  switch (envelope.type) {
    case 'node_add':
      return { node: envelope.node, text: `${envelope.node} added`, kinds: ['added'] };
    case 'node_delete':
      return { node: envelope.node, text: `${envelope.node} removed`, kinds: ['removed'] };
    case 'node_update': {
      // A cordon through knm also writes its reason annotations: "node-12 cordoned" says it all.
      const changes = envelope.changes.includes('schedulable')
        ? envelope.changes.filter((c) => c !== 'annotations')
        : envelope.changes;
      const words = changes.map((c) =>
        c === 'schedulable' ? (envelope.data.unschedulable ? 'cordoned' : 'uncordoned') : c,
      );
      const verbs = words.filter((w) => w === 'cordoned' || w === 'uncordoned');
      const aspects = words.filter((w) => w !== 'cordoned' && w !== 'uncordoned');
      const parts = [
        ...(aspects.length > 0 ? [`${aspects.join(', ')} updated on ${envelope.node}`] : []),
        ...verbs.map((v) => `${envelope.node} ${v}`),
      ];
      return { node: envelope.node, text: parts.join('; '), kinds: [...envelope.changes] };
    }
    default:
      return undefined;
  }
}
