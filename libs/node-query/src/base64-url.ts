/** UTF-8 text as unpadded base64url (what continue tokens are made of). */
export function base64UrlEncode(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The text of {@link base64UrlEncode}; throws on anything that is not base64url of UTF-8. */
export function base64UrlDecode(token: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new Error('not base64url');
  const binary = atob(token.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}
