import { UNHEALTHY_WHEN, type HistoryEntry } from '@knm/contracts';
import { formatTaint } from '../nodes/node-row.js';

/** How an entry reads at a glance: a health loss, a recovery, or anything else. */
export type HistoryTone = 'bad' | 'ok' | 'neutral';

/** One timeline line as the drawer shows it. */
export interface HistoryLine {
  id: string;
  /** Epoch ms of the entry's `at`. */
  at: number;
  kind: HistoryEntry['kind'];
  text: string;
  tone: HistoryTone;
  /** `observed`: the watcher's time of writing, not the object's own (said in the tooltip). */
  observed: boolean;
}

/** `KubeletNotReady: kubelet stopped posting` (the message only when it says more than the reason). */
function why(reason: string | undefined, message: string | undefined): string {
  if (reason && message && message !== reason) return `${reason}: ${message}`;
  return reason ?? message ?? '';
}

const paren = (text: string): string => (text ? ` (${text})` : '');

/** The readable line of one history entry, e.g. `Ready → False (KubeletNotReady: …)`. */
export function describeHistoryEntry(entry: HistoryEntry): string {
  switch (entry.kind) {
    case 'condition': {
      if (entry.status === 'Removed') return `${entry.condition} condition removed`;
      const from = entry.previous === undefined ? 'appeared' : `${entry.previous}`;
      return `${entry.condition} ${from} → ${entry.status}${paren(why(entry.reason, entry.message))}`;
    }
    case 'cordon':
      return `Cordoned${entry.by ? ` by ${entry.by}` : ''}${entry.reason ? `: ${entry.reason}` : ''}`;
    case 'uncordon':
      return 'Uncordoned';
    case 'taint_added':
      return `Taint added ${formatTaint(entry.taint)}`;
    case 'taint_removed':
      return `Taint removed ${formatTaint(entry.taint)}`;
    case 'node_added':
      return 'Node added to the cluster';
    case 'node_removed':
      return 'Node removed from the cluster';
    case 'operation': {
      const op = entry.operation;
      const detail = op.error ?? op.message;
      return `Operation ${op.action} ${op.status} (by ${op.by})${detail ? `: ${detail}` : ''}`;
    }
  }
}

/** Whether the entry lost health (an unhealthy condition, a removal, a failed operation) or regained it. */
export function historyTone(entry: HistoryEntry): HistoryTone {
  switch (entry.kind) {
    case 'condition': {
      const unhealthy = UNHEALTHY_WHEN[entry.condition];
      if (!unhealthy || entry.status === 'Removed') return 'neutral';
      return unhealthy(entry.status) ? 'bad' : 'ok';
    }
    case 'node_removed':
      return 'bad';
    case 'operation':
      return entry.operation.status === 'failed' ? 'bad' : 'neutral';
    default:
      return 'neutral';
  }
}

/** The timeline line of `entry`. */
export function toHistoryLine(entry: HistoryEntry): HistoryLine {
  return {
    id: entry.id,
    at: Date.parse(entry.at),
    kind: entry.kind,
    text: describeHistoryEntry(entry),
    tone: historyTone(entry),
    observed: entry.timeSource === 'observed',
  };
}
