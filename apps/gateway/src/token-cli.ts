import { CommandLineError, readFlags } from '@knm/cli';
import { DurationParseError, parseDurationSeconds, signToken } from '@knm/auth';
import { ContractError, RoleSchema, type AuthClaims } from '@knm/contracts';

const USAGE =
  'usage: npm run token -- --role viewer|operator|admin [--clusters dev,prod|*] [--ttl 8h] [--sub name]\n' +
  'Signs a token with KNM_JWT_SECRET (at least 32 bytes) and prints it.';

/**
 * `npm run token`: prints a signed HS256 token for local use. Exit 2 with a usage
 * message on bad flags or a missing secret.
 */
async function main(argv: string[]): Promise<number> {
  let values;
  try {
    values = readFlags(argv, {
      role: 'string',
      clusters: 'string',
      ttl: 'string',
      sub: 'string',
      help: { type: 'boolean', short: 'h' },
    });
  } catch (err) {
    if (!(err instanceof CommandLineError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE}\n`);
    return 2;
  }
  if (values['help']) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const secret = process.env['KNM_JWT_SECRET'];
  if (!secret) {
    process.stderr.write(`KNM_JWT_SECRET is not set\n${USAGE}\n`);
    return 2;
  }
  const role = RoleSchema.safeParse(values['role']);
  if (!role.success) {
    process.stderr.write(`--role must be viewer, operator or admin\n${USAGE}\n`);
    return 2;
  }
  const clusterList = (values.clusters ?? '*')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const claims = {
    sub: values.sub ?? process.env['USER'] ?? 'knm-cli',
    role: role.data,
    clusters: clusterList.includes('*') ? '*' : clusterList,
  } as AuthClaims;
  try {
    const ttlSeconds = parseDurationSeconds(values.ttl ?? '8h');
    process.stdout.write(`${await signToken(claims, { secret, ttlSeconds })}\n`);
    return 0;
  } catch (err) {
    if (err instanceof DurationParseError || err instanceof ContractError || err instanceof RangeError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
