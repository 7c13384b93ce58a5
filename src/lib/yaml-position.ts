import { isMap, isScalar, isSeq, type LineCounter, type Node } from "yaml";

/**
 * Where the value at JSON-pointer `segments` sits in a parsed YAML document, as 1-based line and
 * column; as deep as the document goes when the path leaves it (e.g. a missing key).
 */
export function yamlPosition(
  root: unknown,
  segments: string[],
  lc: LineCounter,
): { line: number; col: number } | undefined {
  let node = root as Node | null | undefined;
  let last = node;
  for (const seg of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) break;
      node = pair.value as Node | null;
      // A block map or list starts on the line after its key: the key is where a person looks.
      last = (node && !((isMap(node) || isSeq(node)) && !node.flow) ? node : pair.key) as Node;
      if (!node) break;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (!item) break;
      node = item as Node;
      last = node;
    } else break;
  }
  const range = (last as Node | undefined)?.range;
  return range ? lc.linePos(range[0]) : undefined;
}
