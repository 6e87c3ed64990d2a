/**
 * A router's HTTP base URL from any form a user may give: http(s)://host[:port][/prefix], or the node
 * gateway's ws(s):// address (with or without its `/nodes/ws` path). ws maps to http and wss to https, so
 * one URL names both the API and the gateway, encrypted or not.
 */
export function routerBaseUrl(url: string): string {
  const trimmed = url.trim();
  const scheme = /^(wss?):\/\//i.exec(trimmed)?.[1]?.toLowerCase();
  const http = scheme ? `${scheme === 'wss' ? 'https' : 'http'}${trimmed.slice(scheme.length)}` : trimmed;
  return http.replace(/\/+$/, '').replace(/\/nodes\/ws$/, '');
}
