/**
 * A boolean query parameter as the API server decodes it (apimachinery's
 * `Convert_Slice_string_To_bool`): absent is false (or undefined for an optional
 * `*bool`), `0` and `false` in any case are false, and anything else, the empty
 * value included, is true. Clients rely on it: the Python client sends `watch=True`.
 */
export function parseQueryBool(value: string | null): boolean | undefined {
  if (value === null) return undefined;
  return !(value === '0' || value.toLowerCase() === 'false');
}
