import ipaddr from "ipaddr.js";

/** One subjectAltName entry: `type` as Node prints it (`DNS`, `URI`, `IP Address`, `email`, ...). */
export interface San {
  readonly type: string;
  readonly value: string;
}

/**
 * The entries of Node's `subjectaltname` / `X509Certificate#subjectAltName` text:
 * `DNS:a, URI:spiffe://x, IP Address:1.2.3.4, email:a@b`. Node JSON-quotes a value holding `,`,
 * `"`, `\`, `'` or control characters (`DNS:"a,b"`), so a comma inside a value cannot split it.
 * Text that does not follow that grammar yields no entry past the point it breaks: a certificate
 * whose names cannot be read has none an allow-list could match.
 */
export function parseSubjectAltName(text: string | undefined): San[] {
  const out: San[] = [];
  if (!text) return out;
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(":", i);
    if (colon < 0) break;
    const type = text.slice(i, colon);
    let value: string;
    let end: number;
    if (text[colon + 1] === '"') {
      end = closingQuote(text, colon + 2);
      if (end < 0) break;
      end += 1;
      try {
        value = JSON.parse(text.slice(colon + 1, end)) as string;
      } catch {
        break;
      }
    } else {
      const comma = text.indexOf(", ", colon + 1);
      end = comma < 0 ? text.length : comma;
      value = text.slice(colon + 1, end);
    }
    out.push({ type, value });
    if (end >= text.length) break;
    if (!text.startsWith(", ", end)) break;
    i = end + 2;
  }
  return out;
}

/** The index of the `"` closing a JSON string whose body starts at `from`, or -1. */
function closingQuote(text: string, from: number): number {
  for (let j = from; j < text.length; j++) {
    if (text[j] === "\\") j++;
    else if (text[j] === '"') return j;
  }
  return -1;
}

/** `DNS:agent.example`-style, as a config writes it and as `ok` results report a SAN; printable. */
export function formatSan(san: San): string {
  return printable(`${san.type}:${san.value}`);
}

/**
 * Certificate text with control characters escaped (`\u000a`): a client chooses its certificate's
 * names, and they end up in log lines and messages, which must stay one line each.
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it escapes
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Whether any of a certificate's SANs is allowed. */
export type SanMatcher = (sans: readonly San[]) => boolean;

// The types an allow-list entry may name, lowercased, to the name its key uses.
const TYPES: Readonly<Record<string, string>> = {
  dns: "DNS",
  uri: "URI",
  ip: "IP",
  "ip address": "IP",
  email: "email",
};

/**
 * Compile an `allowed_sans` list (config-types.ts `MtlsConfig`): typed entries (`DNS:a`,
 * `URI:spiffe://x`, `IP:10.0.0.1`, `email:a@b`) match that SAN only; a bare value matches a SAN
 * of any type with that value. Comparison is exact after normalising what the standards leave
 * free: DNS names and email domains are case-insensitive, IP addresses compare as addresses
 * (Node prints `::1` as `0:0:0:0:0:0:0:1`). No wildcards. An empty list allows any SAN set.
 */
export function compileSanAllowList(entries: readonly string[]): SanMatcher {
  if (entries.length === 0) return () => true;
  const allowed = new Set<string>();
  for (const entry of entries) {
    const colon = entry.indexOf(":");
    const type = colon > 0 ? TYPES[entry.slice(0, colon).toLowerCase()] : undefined;
    if (type !== undefined) {
      allowed.add(sanKey(type, entry.slice(colon + 1)));
    } else {
      for (const t of new Set(Object.values(TYPES))) allowed.add(sanKey(t, entry));
    }
  }
  return (sans) => sans.some((s) => allowed.has(sanKey(TYPES[s.type.toLowerCase()] ?? s.type, s.value)));
}

/** `TYPE\0normalised value`: the one shape both sides are compared in. */
function sanKey(type: string, value: string): string {
  return `${type}\0${normalise(type, value)}`;
}

function normalise(type: string, value: string): string {
  switch (type) {
    case "DNS":
      return value.toLowerCase();
    case "IP":
      return ipaddr.isValid(value) ? ipaddr.process(value).toString() : value;
    case "email": {
      const at = value.lastIndexOf("@");
      return at < 0 ? value : value.slice(0, at + 1) + value.slice(at + 1).toLowerCase();
    }
    default:
      return value;
  }
}
