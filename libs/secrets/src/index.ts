export { parseSecretKey, type SecretKey } from './secret-key.js';
export { SecretBox, type SecretsEnv } from './secret-box.js';
export { SecretsKeyError } from './secrets-key-error.js';
export { SealedSecretError } from './sealed-secret-error.js';
export { SECRET_ENV_NAMES, takeSecretEnv } from './secret-env.js';
