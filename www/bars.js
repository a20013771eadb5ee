// Bar charts as plain DOM: a row per id with a label, a bar whose width is set through CSSOM
// (the page's CSP forbids inline style attributes) and a value. Text, never HTML.

/** A printable label for a character id. */
export function charLabel(ch) {
  if (ch === '\n') return '↵';
  if (ch === ' ') return '␣';
  if (ch === '\t') return '⇥';
  return ch;
}

/**
 * rows: [{ label, value, fraction (0…1 bar length; −1…1 with `signed`), note, muted,
 *          marker (0…1 or null) }]. Signed bars grow left or right from the middle.
 */
export function renderBars(container, rows) {
  container.replaceChildren(...rows.map((r) => {
    const row = document.createElement('div');
    row.className = 'bar-row' + (r.muted ? ' muted-row' : '');
    const label = document.createElement('span');
    label.className = 'bar-label';
    label.textContent = r.label;
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
