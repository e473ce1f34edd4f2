import { describe, expect, it } from 'vitest';
import { quantityToBaseUnits } from './quantity.js';

describe('quantityToBaseUnits', () => {
  it.each([
    ['cpu', '250m', 250],
    ['cpu', '2', 2_000],
    ['cpu', '1.5', 1_500],
    ['cpu', '0.1m', 1],
    ['cpu', '100n', 1],
    ['cpu', '123456789n', 124],
    ['cpu', '1e3', 1_000_000],
    ['cpu', '.5', 500],
    ['memory', '128Mi', 134_217_728],
    ['memory', '1Gi', 1_073_741_824],
    ['memory', '1G', 1_000_000_000],
    ['memory', '32847364Ki', 33_635_700_736],
    ['memory', '500m', 1],
    ['memory', '1.5Gi', 1_610_612_736],
    ['memory', '1E', 1e18],
    ['memory', '2E-3', 1],
    ['ephemeral-storage', '10G', 10_000_000_000],
    ['hugepages-2Mi', '2Mi', 2_097_152],
    ['nvidia.com/gpu', '1', 1],
    ['pods', '110', 110],
    ['pods', '1k', 1_000],
    ['memory', '0', 0],
    ['memory', '+1Ki', 1_024],
  ])('%s %s -> %d', (resource, quantity, expected) => {
    expect(quantityToBaseUnits(resource, quantity)).toBe(expected);
  });

  it.each(['', 'abc', '1Xi', '1.2.3', 'm', '--1', '1e999'])('refuses %j', (quantity) => {
    expect(quantityToBaseUnits('memory', quantity)).toBeUndefined();
  });
});
