// Building the page's DOM without HTML strings: every text the server sent (prompts, answers,
// names) goes in as a text node or an attribute value, never as markup.

/**
 * An element: `h('a', {class: 'x', href: '#/', 'data-id': id, onclick: f}, 'text', child)`.
 * Props: `class`, `text`, `on<event>` listeners; anything else an attribute (`true` for a bare
 * one; null, undefined and false left out). Children: nodes, or values shown as text.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  add(el, children);
  return el;
}

function add(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) add(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** How many characters of a text show before a "Show all" button. */
export const TEXT_LIMIT = 6000;

/**
 * A block of text kept as written (pre-wrap): long ones are cut at `limit` characters with a
 * button that shows the rest.
 */
export function longText(text, className, limit = TEXT_LIMIT, tag = 'div') {
  const value = String(text ?? '');
  const body = h(tag, { class: className });
  if (value.length <= limit) {
    body.textContent = value;
    return body;
  }
  body.textContent = value.slice(0, limit);
  const more = h('button', { type: 'button', class: 'more' },
    `Show all ${value.length.toLocaleString('en')} characters`);
  more.addEventListener('click', () => {
    body.textContent = value;
    more.remove();
  });
  return h('div', { class: 'long' }, body, more);
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  add(el, children);
  return el;
}
