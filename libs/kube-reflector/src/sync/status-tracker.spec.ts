import { describe, expect, it } from 'vitest';
import { StatusTracker } from './status-tracker.js';

describe('StatusTracker', () => {
  it('syncing until listed, degraded with the first failing resource, ready only once served', () => {
    let synced = false;
    const tracker = new StatusTracker(() => synced);
    expect(tracker.due(false)).toEqual({ status: 'syncing' });
    tracker.markWritten({ status: 'syncing' });
    expect(tracker.due(false)).toBeUndefined();
    synced = true;
    expect(tracker.refresh()).toBe(true);
    // Not served yet: ready is not claimed.
    expect(tracker.due(false)).toBeUndefined();
    expect(tracker.due(true)).toEqual({ status: 'ready' });
    expect(tracker.setHealth('nodes', false, new Error('connect ECONNREFUSED'))).toBe(true);
    expect(tracker.due(true)).toEqual({ status: 'degraded', error: 'nodes: connect ECONNREFUSED' });
    expect(tracker.setHealth('pods', false, new Error('reset'))).toBe(false);
    expect(tracker.setHealth('nodes', true)).toBe(true);
    expect(tracker.wanted).toEqual({ status: 'degraded', error: 'pods: reset' });
    tracker.setHealth('pods', true);
    tracker.markWritten({ status: 'ready' });
    expect(tracker.due(true)).toBeUndefined();
    tracker.forgetWritten();
    expect(tracker.due(true)).toEqual({ status: 'ready' });
  });
});
