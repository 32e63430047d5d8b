// @ts-check
/**
 * The dashboard's DOM and text helpers. Everything from the server (task names, URLs, headers,
 * payloads, error messages: the task creator's bytes) reaches the page through `el` and
 * `setText`, which write text nodes; nothing here parses markup.
 */

/**
 * The element with this id (the page has each one; a missing one is a bug of the page).
 * @param {string} id
 * @returns {HTMLElement}
 */
export function $(id) {
  const e = document.getElementById(id);
  if (e === null) throw new Error(`the page has no #${id}`);
  return e;
}

/**
 * A new element with a class and text.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string | null} [cls]
 * @param {unknown} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

/**
 * Sets a node's text, touching the DOM only when it changed.
 * @param {Node} e
 * @param {unknown} text
 */
export function setText(e, text) {
  const t = text === undefined || text === null ? '' : String(text);
  if (e.textContent !== t) e.textContent = t;
}

/**
 * @param {string} id
 * @param {string} message
 */
export function showAlert(id, message) {
  const box = $(id);
  const text = box.querySelector('.text');
  if (text !== null) setText(text, message);
  box.classList.add('shown');
}

/** @param {string} id */
export function hideAlert(id) {
  $(id).classList.remove('shown');
}

/**
 * @param {string} tableId
 * @returns {HTMLTableSectionElement}
 */
export function tbodyOf(tableId) {
  const body = $(tableId).querySelector('tbody');
  if (body === null) throw new Error(`#${tableId} has no tbody`);
  return body;
}

/**
 * Keeps `value` under `key` in `map` and returns it.
 * @template T
 * @param {Map<string, T>} map
 * @param {string} key
 * @param {T} value
 */
export function remember(map, key, value) {
  map.set(key, value);
  return value;
}

/**
 * @param {Record<string, HTMLTableCellElement>} cells
 * @param {string} field
 * @returns {HTMLTableCellElement}
 */
export function cellOf(cells, field) {
  const c = cells[field];
  if (c === undefined) throw new Error(`no cell ${field}`);
  return c;
}

/**
 * A state as a badge in `td` (made on first use), its text the state's unless `label` is given.
 * @param {HTMLTableCellElement} td
 * @param {string} state
 * @param {string} [label]
 */
export function setBadge(td, state, label) {
  let badge = td.firstElementChild;
  if (!badge) {
    badge = el('span');
    td.appendChild(badge);
  }
  badge.className = 'badge s-' + state;
  // A task that gave up is in state `failed`: the page says what happened.
  setText(badge, label ?? (state === 'failed' ? 'gave up' : state));
}

// ---- text ----

/** @param {number | null | undefined} x */
export function num(x) {
  return x === null || x === undefined ? '–' : String(x);
}

/**
 * @param {number | null | undefined} x
 * @param {number} d
 */
export function fixed(x, d) {
  return x === null || x === undefined ? '–' : (Math.round(x * Math.pow(10, d)) / Math.pow(10, d)).toFixed(d);
}

/** @param {number | null | undefined} x */
export function secs(x) {
  return x === null || x === undefined ? '–' : String(Math.round(x * 1e6) / 1e6) + ' s';
}

/**
 * @param {number} n
 * @param {string} one
 * @param {string} many
 */
export function plural(n, one, many) {
  return n + ' ' + (n === 1 ? one : many);
}

/** @param {Date} d */
function clock(d) {
  /**
   * @param {number} n
   * @param {number} [w]
   */
  const pad = (n, w) => String(n).padStart(w || 2, '0');
  return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + pad(d.getMilliseconds(), 3);
}

/**
 * An absolute time, to the millisecond; the date too when it is not today.
 * @param {string | null | undefined} iso
 */
export function stamp(iso) {
  const ms = iso === null || iso === undefined ? NaN : Date.parse(iso);
  if (isNaN(ms)) return iso === null || iso === undefined ? '–' : String(iso);
  const d = new Date(ms);
  return (d.toDateString() === new Date().toDateString() ? '' : d.toLocaleDateString() + ' ') + clock(d);
}

/**
 * A time and how far from now: `16:20:01.234 (in 3 s)`.
 * @param {string} iso
 */
export function when(iso) {
  const ms = Date.parse(iso);
  if (isNaN(ms)) return iso;
  const d = new Date(ms);
  let text = clock(d);
  const delta = (ms - Date.now()) / 1000;
  if (Math.abs(delta) < 0.5) return text + ' (now)';
  const rel = Math.abs(delta) < 90 ? Math.round(Math.abs(delta)) + ' s' : Math.abs(delta) < 5400 ? Math.round(Math.abs(delta) / 60) + ' min' : Math.round(Math.abs(delta) / 3600) + ' h';
  if (Math.abs(delta) >= 86400) text = d.toLocaleDateString() + ' ' + text;
  return text + (delta > 0 ? ' (in ' + rel + ')' : ' (' + rel + ' ago)');
}

/**
 * A queue picker's options: every queue, the queues in order, and the one it shows if not among
 * them; then shows it.
 * @param {HTMLSelectElement} box
 * @param {string[]} names
 * @param {string} current
 */
export function queueOptions(box, names, current) {
  const want = ['*', ...names];
  if (!want.includes(current)) want.push(current);
  const have = Array.from(box.options).map((o) => o.value);
  if (have.join('\n') !== want.join('\n')) {
    box.replaceChildren(...want.map((n) => {
      const o = el('option', null, n === '*' ? 'all queues' : n);
      o.value = n;
      return o;
    }));
  }
  if (box.value !== current) box.value = current;
}
