/**
 * kube-sim's well-known development TLS certificate (self-signed, EC P-256, valid
 * until 2036 for 127.0.0.1, ::1, localhost, kube-sim). Why it exists: kubectl
 * sends bearer tokens only over TLS (client-go reads a kubeconfig's user
 * credentials only when the transport is TLS), so the kubeconfig kube-sim writes
 * points at an HTTPS listener and carries this certificate as its CA. The private
 * key is public by design: this is a simulator for tests and demos, never a
 * production server. Pass your own with the `tls` option when that matters.
 */

/** PEM certificate (also the CA clients trust). */
export const DEV_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIICDTCCAbSgAwIBAgIUEsNdhjJGGq/6XWsZWolA5JkPtI0wCgYIKoZIzj0EAwIw
ITEMMAoGA1UECgwDa25tMREwDwYDVQQDDAhrdWJlLXNpbTAeFw0yNjExMjIxNjE0
MzZaFw0zNjExMTkxNjE0MzZaMCExDDAKBgNVBAoMA2tubTERMA8GA1UEAwwIa3Vi
ZS1zaW0wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARWQ1t8rsLntSFQuRURJPpM
cgVQ/0JiEmRkvTjV8sag07YrLqIqI6An0EHKtbeHXPl8NCcihVurGDMXfdNGvcQ2
o4HJMIHGMB0GA1UdDgQWBBRowGI0YB54YANmZQ97vdMpUMdV4zAfBgNVHSMEGDAW
gBRowGI0YB54YANmZQ97vdMpUMdV4zBOBgNVHREERzBFhwR/AAABhxAAAAAAAAAA
AAAAAAAAAAABgglsb2NhbGhvc3SCCGt1YmUtc2ltghZrdWJlcm5ldGVzLmRlZmF1
bHQuc3ZjMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgKEMBMGA1UdJQQM
MAoGCCsGAQUFBwMBMAoGCCqGSM49BAMCA0cAMEQCIC1A0iQeIZDr2dawXzQBjSg8
ZAk2EfOX/8OJ5GK/GfZFAiBBeVHzfyNlETvaJEVAtmig0/dH7GJ7o4OSUXfdmVrw
1A==
-----END CERTIFICATE-----
`;

/** PEM private key of {@link DEV_TLS_CERT}. */
export const DEV_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg3P+4IH/JJnKREZnt
fXnuKdDC6/WhG7LpQqdFxAyFoqyhRANCAARWQ1t8rsLntSFQuRURJPpMcgVQ/0Ji
EmRkvTjV8sag07YrLqIqI6An0EHKtbeHXPl8NCcihVurGDMXfdNGvcQ2
-----END PRIVATE KEY-----
`;
