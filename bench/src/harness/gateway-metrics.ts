/**
 * A gateway's metric from its `/metrics`: the sum of every series of `name` (all its
 * label sets), 0 when the gateway does not answer or has no such series.
 */
export async function gatewayMetric(url: string, name: string): Promise<number> {
  const text = await metricsText(url);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name} `) && !line.startsWith(`${name}{`)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/** The sum of `name` over every gateway. */
export async function gatewaysMetric(urls: readonly string[], name: string): Promise<number> {
  const values = await Promise.all(urls.map((url) => gatewayMetric(url, name)));
  return values.reduce((a, b) => a + b, 0);
}

/** Each value of `label` in the series of `name`, summed over every gateway (`{}` when none has a series). */
export async function gatewaysMetricByLabel(
  urls: readonly string[],
  name: string,
  label: string,
): Promise<Record<string, number>> {
  const texts = await Promise.all(urls.map(metricsText));
  const prefix = `${name}{`;
  const labelled = new RegExp(`[{,]${label}="((?:[^"\\\\]|\\\\.)*)"`);
  const sums: Record<string, number> = {};
  for (const line of texts.join('\n').split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const key = labelled.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (key !== undefined && Number.isFinite(value)) sums[key] = (sums[key] ?? 0) + value;
  }
  return sums;
}

/** A gateway's `/metrics` text, empty when it does not answer. */
async function metricsText(url: string): Promise<string> {
  return fetch(`${url}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
}
