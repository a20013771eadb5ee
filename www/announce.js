// One polite live region for the state of long actions: generation and training started,
// stopped, finished, failed. Never every token or every step: a screen reader hears a change of
// state, then silence, and the figures stay on the page to read at will.

/** Says `text` through the page's polite live region (index.html's #announcer). */
export function announce(text) {
  const region = document.getElementById('announcer');
  // The same sentence twice in a row (Stop, then Stop again) is still news: clear, then say.
  region.textContent = '';
  requestAnimationFrame(() => { region.textContent = text; });
}
