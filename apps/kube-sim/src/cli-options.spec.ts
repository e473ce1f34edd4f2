import { describe, expect, it } from 'vitest';
import { CliUsageError, parseCli } from './cli-options.js';

describe('parseCli --lease-seconds', () => {
  it("defaults to the kubelet's 10 s and takes 0 (no renewals) or any other interval", () => {
    expect(parseCli([]).leaseSeconds).toBe(10);
    expect(parseCli(['--lease-seconds', '0']).leaseSeconds).toBe(0);
    expect(parseCli(['--lease-seconds', '2.5']).leaseSeconds).toBe(2.5);
  });

  it('refuses a negative interval', () => {
    expect(() => parseCli(['--lease-seconds', '-1'])).toThrow(CliUsageError);
  });
});

describe('parseCli metrics flags', () => {
  it('serves metrics every 15 s by default; --no-metrics turns them off; --metrics-resolution sets the interval', () => {
    expect(parseCli([])).toMatchObject({ metrics: true, metricsResolution: 15 });
    expect(parseCli(['--no-metrics']).metrics).toBe(false);
    expect(parseCli(['--metrics-resolution', '0.5']).metricsResolution).toBe(0.5);
    expect(() => parseCli(['--metrics-resolution', '0'])).toThrow(CliUsageError);
    expect(() => parseCli(['--no-metrics=yes'])).toThrow(CliUsageError);
  });
});

describe('parseCli --event-ttl', () => {
  it("keeps Events an hour by default, as the API server's --event-ttl, and takes seconds", () => {
    expect(parseCli([]).eventTtl).toBe(3_600);
    expect(parseCli(['--event-ttl', '60']).eventTtl).toBe(60);
    expect(() => parseCli(['--event-ttl', '0'])).toThrow(CliUsageError);
  });
});
