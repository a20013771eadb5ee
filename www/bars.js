// Bar charts as plain DOM: a row per id with a label, a bar whose width is set through CSSOM
// (the page's CSP forbids inline style attributes) and a value. Text, never HTML. The chart is
// drawn for the eye (aria-hidden); its text alternative is a visually hidden table of the same
// rows, which a screen reader reads as a table.

import { english, t } from './i18n.js';

/** A printable label for a character id. */
export function charLabel(ch) {
  if (ch === '\n') return '↵';
  if (ch === ' ') return '␣';
  if (ch === '\t') return '⇥';
  return ch;
}

/** A row's label: a model token, marked English, or the page's own text. */
const labelNode = (r) => (r.plain ? r.label : english(r.label));

/**
 * rows: [{ label, value, fraction (0…1 bar length; −1…1 with `signed`), note, muted,
 *          marker (0…1 or null), plain }]. Signed bars grow left or right from the middle. A
 * label is a token of the (English) model, marked lang="en", unless `plain`: the page's own
 * words ("other 72") or an id.
 * `alt`: { table, caption, column } fills `table` (visually hidden) with the rows as text;
 * without it the caller gives the container its own text alternative.
 */
export function renderBars(container, rows, alt) {
  if (alt) {
    container.setAttribute('aria-hidden', 'true');
    renderTable(alt, rows);
  }
  container.replaceChildren(...rows.map((r) => {
    const row = document.createElement('div');
    row.className = 'bar-row' + (r.muted ? ' muted-row' : '');
    const label = document.createElement('span');
    label.className = 'bar-label';
    label.append(labelNode(r));
    const track = document.createElement('span');
    track.className = 'bar-track';
    const bar = document.createElement('span');
    bar.className = 'bar';
    if (r.signed) {
      const f = Math.max(-1, Math.min(1, r.fraction));
      track.classList.add('signed');
      bar.classList.add(f < 0 ? 'negative' : 'positive');
      bar.style.left = `${50 - Math.max(0, -f) * 50}%`;
      bar.style.width = `${Math.abs(f) * 50}%`;
    } else {
      bar.style.width = `${Math.max(0, Math.min(1, r.fraction)) * 100}%`;
    }
    track.append(bar);
    if (r.marker != null) {
      const m = document.createElement('span');
      m.className = 'bar-marker';
      m.style.left = `${Math.max(0, Math.min(1, r.marker)) * 100}%`;
      track.append(m);
    }
    const value = document.createElement('span');
    value.className = 'bar-value';
    value.textContent = r.value + (r.note ? ` ${r.note}` : '');
    row.append(label, track, value);
    return row;
  }));
}

/** The bars' rows as a table: token, value (and why it was cut). */
function renderTable({ table, caption, column }, rows) {
  const cap = document.createElement('caption');
  cap.textContent = caption;
  const head = document.createElement('tr');
  for (const text of [t('col.token'), column]) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = text;
    head.append(th);
  }
  const thead = document.createElement('thead');
  thead.append(head);
  const tbody = document.createElement('tbody');
  tbody.append(...rows.map((r) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.append(labelNode(r));
    const td = document.createElement('td');
    td.textContent = r.value + (r.note ? ` ${r.note}` : '');
    tr.append(th, td);
    return tr;
  }));
  table.replaceChildren(cap, thead, tbody);
}
