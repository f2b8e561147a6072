/** The few DOM helpers the explorer page needs (no framework: the page is one static file and a script). */

/** A new element with attributes and children (strings become text nodes, never HTML). */
export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Readonly<Record<string, string>> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** The element with this id; the page's HTML (src/explore/html.ts) declares every id the script uses. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (node === null) throw new Error(`the explorer page has no #${id}`);
  return node as T;
}
