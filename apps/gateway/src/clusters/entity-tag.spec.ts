import { describe, expect, it } from 'vitest';
import { clusterState, entityTag, ifNoneMatchMatches } from './entity-tag.js';

const at = { epoch: 3, seq: 41, registeredAt: '2026-12-01T00:00:00.000Z' };

describe('entityTag', () => {
  it('is a strong tag naming epoch and seq, one per coding, the same for the same state', () => {
    const tag = entityTag(clusterState(at, 'pod-counts'), 'identity');
    expect(tag).toMatch(/^"3\.41-[A-Za-z0-9_-]{22}"$/);
    expect(entityTag(clusterState({ ...at }, 'pod-counts'), 'identity')).toBe(tag);
    expect(entityTag(clusterState(at, 'pod-counts'), 'gzip')).toBe(`${tag.slice(0, -1)}-gzip"`);
    expect(entityTag(clusterState(at, 'pod-counts'), 'br')).toBe(`${tag.slice(0, -1)}-br"`);
  });

  it('changes with every seq, epoch, life and query', () => {
    const tags = [
      entityTag(clusterState(at, 'q'), 'identity'),
      entityTag(clusterState({ ...at, seq: 42 }, 'q'), 'identity'),
      entityTag(clusterState({ ...at, epoch: 4 }, 'q'), 'identity'),
      entityTag(clusterState({ ...at, registeredAt: '2026-12-02T00:00:00.000Z' }, 'q'), 'identity'),
      entityTag(clusterState(at, 'q2'), 'identity'),
    ];
    expect(new Set(tags).size).toBe(tags.length);
  });
});

describe('ifNoneMatchMatches', () => {
  const tag = '"3.41-abc"';

  it('weak comparison: W/ on either side is ignored', () => {
    expect(ifNoneMatchMatches('"3.41-abc"', tag)).toBe(true);
    expect(ifNoneMatchMatches('W/"3.41-abc"', tag)).toBe(true);
    expect(ifNoneMatchMatches('"3.41-abc"', 'W/"3.41-abc"')).toBe(true);
  });

  it('any tag of a list, and *', () => {
    expect(ifNoneMatchMatches('"x", W/"3.41-abc" ,"y"', tag)).toBe(true);
    expect(ifNoneMatchMatches('"x","y"', tag)).toBe(false);
    expect(ifNoneMatchMatches('*', tag)).toBe(true);
    expect(ifNoneMatchMatches(' * ', tag)).toBe(true);
  });

  it('nothing when absent, another tag, unquoted or malformed', () => {
    expect(ifNoneMatchMatches(undefined, tag)).toBe(false);
    expect(ifNoneMatchMatches('', tag)).toBe(false);
    expect(ifNoneMatchMatches('"3.41-abd"', tag)).toBe(false);
    expect(ifNoneMatchMatches('3.41-abc', tag)).toBe(false);
    expect(ifNoneMatchMatches('"3.41-abc', tag)).toBe(false);
    expect(ifNoneMatchMatches('"3.41-abc" garbage', tag)).toBe(false);
    expect(ifNoneMatchMatches('w/"3.41-abc"', tag)).toBe(false);
  });
});
