import { XMLParser, XMLValidator } from "fast-xml-parser";
import { artifactInvalid } from "./fault.js";

/** One XML element: attributes (references decoded), text (references decoded, CDATA kept), children. */
export interface XmlElement {
  name: string;
  attrs: ReadonlyMap<string, string>;
  text: string;
  children: XmlElement[];
}

const ATTR = "@_";

// Entities are never expanded by the parser: no DTD is accepted (see `declaresDoctype`), and the
// five predefined entities and character references are decoded by `decodeText`, which cannot
// grow a text beyond its own length.
const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTR,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  cdataPropName: "#cdata",
});

const NAMED: Readonly<Record<string, string>> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const REFERENCE = /&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));/g;

// A character XML 1.0 allows (§2.2); a reference to any other is left as written.
function xmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

function decodeText(s: string): string {
  return s.replace(REFERENCE, (ref, name?: string, dec?: string, hex?: string) => {
    if (name !== undefined) return NAMED[name] ?? ref;
    const cp = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex ?? "", 16);
    return xmlChar(cp) ? String.fromCodePoint(cp) : ref;
  });
}

// Whether `<!DOCTYPE` appears outside a comment or CDATA section: JUnit never has a DTD.
function declaresDoctype(text: string): boolean {
  for (let at = text.indexOf("<!DOCTYPE"); at >= 0; at = text.indexOf("<!DOCTYPE", at + 1)) {
    const inCdata = text.lastIndexOf("<![CDATA[", at) > text.lastIndexOf("]]>", at);
    const inComment = text.lastIndexOf("<!--", at) > text.lastIndexOf("-->", at);
    if (!inCdata && !inComment) return true;
  }
  return false;
}

type RawNode = Record<string, unknown>;

function toElement(name: string, node: RawNode): XmlElement {
  const attrs = new Map<string, string>();
  // Attribute-value normalization (XML §3.3.3): literal white space reads as a space.
  for (const [k, v] of Object.entries((node[":@"] as Record<string, unknown> | undefined) ?? {}))
    if (k.startsWith(ATTR)) attrs.set(k.slice(ATTR.length), decodeText(String(v).replace(/[\t\n\r]/g, " ")));
  let text = "";
  const children: XmlElement[] = [];
  for (const child of (node[name] as RawNode[] | undefined) ?? []) {
    if (typeof child["#text"] === "string") text += decodeText(child["#text"]);
    else if (Array.isArray(child["#cdata"]))
      for (const c of child["#cdata"] as RawNode[]) text += String(c["#text"] ?? "");
    else {
      const tag = Object.keys(child).find((k) => k !== ":@");
      if (tag !== undefined) children.push(toElement(tag, child));
    }
  }
  return { name, attrs, text, children };
}

// XML's messages as ours: lowercase first letter, no final period.
function ourMessage(m: string): string {
  return `${m.charAt(0).toLowerCase()}${m.slice(1)}`.replace(/\.$/, "");
}

/**
 * The root element of an XML document; a syntax fault names `path:line:col`. A DTD is refused
 * (no entity it declares is ever expanded, nor anything external fetched).
 */
export function parseXmlDocument(text: string, path: string): XmlElement {
  if (declaresDoctype(text))
    throw artifactInvalid("a document type declaration (`<!DOCTYPE`) is not accepted", path);
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw artifactInvalid(
      `not XML: ${ourMessage(msg)}`,
      `${path}:${line}${col === undefined ? "" : `:${col}`}`,
    );
  }
  let nodes: RawNode[];
  try {
    nodes = parser.parse(text) as RawNode[];
  } catch (err) {
    throw artifactInvalid(`not XML: ${ourMessage((err as Error).message)}`, path, err);
  }
  const roots = nodes.filter((n) => !("#text" in n));
  const root = roots[0];
  const name = root === undefined ? undefined : Object.keys(root).find((k) => k !== ":@");
  if (root === undefined || name === undefined || roots.length > 1)
    throw artifactInvalid(`not XML: ${roots.length} root elements, not one`, path);
  return toElement(name, root);
}
