/**
 * The last identifications, kept in the browser (localStorage) and nowhere else. The storage
 * is passed in, so the module runs (and is tested) without a browser.
 */

export const HISTORY_KEY = "jamjar.history";
export const HISTORY_LIMIT = 20;

/**
 * @param {Storage} storage window.localStorage, or anything with getItem/setItem/removeItem
 * @returns {Array<{at: string, songId: number, title: string, artist: string, coverUrl: string|null}>}
 *   newest first; an empty list if nothing is stored or what is stored is unreadable
 */
export function loadHistory(storage) {
  let entries;
  try {
    entries = JSON.parse(storage.getItem(HISTORY_KEY) || "[]");
  } catch {
    return [];
  }
  if (!Array.isArray(entries)) return [];
  return entries
    .filter((entry) => entry && typeof entry.at === "string" && typeof entry.title === "string")
    .slice(0, HISTORY_LIMIT);
}

/**
 * Records a match as the newest entry and keeps the last HISTORY_LIMIT.
 *
 * @param {Storage} storage
 * @param {{songId: number, title: string, artist: string, coverUrl: string|null}} match
 * @param {Date} at when it was identified
 * @returns the list as stored, newest first
 */
export function addToHistory(storage, match, at = new Date()) {
  const entry = {
    at: at.toISOString(),
    songId: match.songId,
    title: match.title,
    artist: match.artist,
    coverUrl: match.coverUrl ?? null,
  };
  const entries = [entry, ...loadHistory(storage)].slice(0, HISTORY_LIMIT);
  try {
    storage.setItem(HISTORY_KEY, JSON.stringify(entries));
  } catch {
    // Storage full or forbidden (private mode): the page works without a history.
  }
  return entries;
}

/** @param {Storage} storage */
export function clearHistory(storage) {
  storage.removeItem(HISTORY_KEY);
}
