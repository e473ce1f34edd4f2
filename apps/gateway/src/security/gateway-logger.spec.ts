import { describe, expect, it } from 'vitest';
import { loggableUrl } from './gateway-logger.js';

describe('loggableUrl', () => {
  it('redacts the values of credential-like query parameters and keeps the rest', () => {
    expect(loggableUrl('/api/v1/clusters')).toBe('/api/v1/clusters');
    expect(loggableUrl('/api/v1/clusters?access_token=eyJ.x.y&limit=5')).toBe(
      '/api/v1/clusters?access_token=[redacted]&limit=5',
    );
    expect(loggableUrl('/x?TOKEN=a&q=b&%74oken=c&password=p&token')).toBe(
      '/x?TOKEN=[redacted]&q=b&%74oken=[redacted]&password=[redacted]&token',
    );
    expect(loggableUrl('/x?%zz=1')).toBe('/x?%zz=1');
    expect(loggableUrl('/api/v1/auth/callback?code=c0de&state=s&iss=i')).toBe(
      '/api/v1/auth/callback?code=[redacted]&state=s&iss=i',
    );
  });
});
