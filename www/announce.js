// One polite live region for the state of long actions: generation and training started,
// stopped, finished, failed. Never every token or every step: a screen reader hears a change of
// state, then silence, and the figures stay on the page to read at will.

import { fillNodes, errorNode } from './i18n.js';

/**
 * Says `what` through the page's polite live region (index.html's #announcer): a string, or a
 * node whose English parts are marked lang="en" (an error from the JS API).
 */
export function announce(what) {
  const region = document.getElementById('announcer');
  // The same sentence twice in a row (Stop, then Stop again) is still news: clear, then say.
  region.textContent = '';
  requestAnimationFrame(() => { region.replaceChildren(what); });
}

/** Says that `e` happened: "Error: …", the error as `errorNode` words it. */
export function announceError(e) {
  const el = document.createElement('span');
  fillNodes(el, 'announce.error', {}, { error: errorNode(e) });
  announce(el);
}
