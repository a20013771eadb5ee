// The vectors a student types (logits z), in the page's notation: "2, 1, 0.5" on the English
// page, "2; 1; 0,5" on the Vietnamese one, as the catalogue's number.decimal says. The URL keeps
// the English notation in every language, so a link such as "try z = (1, 1.001)" reads the same
// numbers on every page; the wasm reads both notations and moves a vector between them.

import { parseValues, translateValues } from './pkg/logitlab.js';
import { t } from './i18n.js';

/** The decimal mark of the URL's notation. */
const URL_MARK = '.';
const pageMark = () => t('number.decimal');

/** The numbers typed in the page's notation, as a Float32Array; else the wasm's coded error. */
export const readTyped = (text) => parseValues(text, { decimal: pageMark() });

/** A vector from the URL (or a preset) as the page writes it; unchanged if it does not read. */
export function fromUrl(text) {
  try {
    return translateValues(text, { from: URL_MARK, to: pageMark() });
  } catch {
    return text;
  }
}

/**
 * A vector typed in the page's notation as the URL keeps it; unchanged if it does not read
 * (a reload then shows the same error).
 */
export function toUrl(text) {
  try {
    return translateValues(text, { from: pageMark(), to: URL_MARK });
  } catch {
    return text;
  }
}
