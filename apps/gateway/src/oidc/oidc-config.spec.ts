import { describe, expect, it } from 'vitest';
import { loadOidcConfig, OidcConfigError } from './oidc-config.js';

const good = {
  KNM_OIDC_ISSUER: 'https://sso.example.com/realms/ops',
  KNM_OIDC_CLIENT_ID: 'knm',
  KNM_OIDC_CLIENT_SECRET: 's3cret',
  KNM_OIDC_ROLE_MAP: 'sre=admin:*;team-a=operator:dev,staging',
};

describe('loadOidcConfig', () => {
  it('is off without an issuer', () => {
    expect(loadOidcConfig({})).toBeUndefined();
  });

  it('reads the issuer, client, role map and defaults', () => {
    const config = loadOidcConfig(good);
    expect(config).toMatchObject({
      issuer: good.KNM_OIDC_ISSUER,
      clientId: 'knm',
      clientSecret: 's3cret',
      scopes: ['openid', 'profile', 'email', 'offline_access'],
      usernameClaim: 'sub',
      groupsClaim: 'groups',
      sessionTtlSeconds: 43_200,
    });
    expect(config?.roleMap.resolve(['team-a'])).toEqual({ role: 'operator', clusters: ['dev', 'staging'] });
  });

  it('says every problem at once', () => {
    const read = () =>
      loadOidcConfig({
        KNM_OIDC_ISSUER: 'http://sso.example.com',
        KNM_OIDC_ROLE_MAP: 'sre=root:*',
        KNM_OIDC_SESSION_TTL: 'soon',
        KNM_OIDC_SCOPES: 'email groups',
      });
    expect(read).toThrow(OidcConfigError);
    expect(read).toThrow(
      /KNM_OIDC_ISSUER must be https .*KNM_OIDC_CLIENT_ID is required.*KNM_OIDC_ROLE_MAP: .*role must be one of.*KNM_OIDC_SESSION_TTL: .*KNM_OIDC_SCOPES must include openid/,
    );
  });

  it('accepts plain http on loopback only (a test provider)', () => {
    expect(loadOidcConfig({ ...good, KNM_OIDC_ISSUER: 'http://127.0.0.1:9000' })?.issuer).toBe(
      'http://127.0.0.1:9000',
    );
  });
});
