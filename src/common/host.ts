// Host names and addresses in URLs and "host:port" strings: an IPv6 literal goes in brackets
// ([::1]:7233), everything else as it is. One place, so every caller brackets alike.

/** `::1` → `[::1]`; a name, an IPv4 address or an already bracketed literal stays as it is. */
export const bracketHost = (host: string): string => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host);

/** `[::1]` → `::1`; anything else stays as it is. */
export const unbracketHost = (host: string): string => host.replace(/^\[(.*)\]$/, '$1');

/** "host:port", with an IPv6 host bracketed. */
export const joinHostPort = (host: string, port: number | string): string => `${bracketHost(host)}:${port}`;

/** "host:port" or "[v6]:port" → [host without brackets, port]; no port → `defaultPort`. */
export function splitHostPort(address: string, defaultPort: number): [host: string, port: number] {
  const sep = address.lastIndexOf(':');
  if (sep <= 0 || address.endsWith(']') || (!address.startsWith('[') && address.indexOf(':') !== sep))
    return [unbracketHost(address), defaultPort];
  return [unbracketHost(address.slice(0, sep)), Number(address.slice(sep + 1))];
}
