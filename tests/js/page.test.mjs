// Tests for static/js/certainty.js and static/js/history.js; run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { certainty } from "../../static/js/certainty.js";
import { HISTORY_KEY, HISTORY_LIMIT, addToHistory, clearHistory, loadHistory } from "../../static/js/history.js";

class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
  removeItem(key) {
    this.items.delete(key);
  }
}

test("certainty words follow the rule margin", () => {
  assert.equal(certainty(0.6).words, "Not sure yet");
  assert.equal(certainty(1).words, "Fairly sure");
  assert.equal(certainty(1.49).words, "Fairly sure");
  assert.equal(certainty(2).words, "Sure");
  assert.equal(certainty(3).words, "Certain");
  assert.equal(certainty(Number.NaN).words, "Not sure yet");
});

test("certainty bar grows with the margin and is full at 4", () => {
  const fractions = [0, 0.5, 1, 1.5, 2, 3, 4, 10].map((margin) => certainty(margin).fraction);
  for (let i = 1; i < fractions.length; i += 1) assert.ok(fractions[i] >= fractions[i - 1], fractions);
  assert.equal(certainty(0).fraction, 0);
  assert.equal(certainty(1).fraction, 0.25);
  assert.equal(certainty(2).fraction, 0.625);
  assert.equal(certainty(4).fraction, 1);
  assert.equal(certainty(10).fraction, 1);
});

test("history keeps the newest 20 identifications, newest first", () => {
  const storage = new MemoryStorage();
  for (let i = 1; i <= 25; i += 1) {
    addToHistory(storage, { songId: i, title: `Song ${i}`, artist: "A", coverUrl: null }, new Date(Date.UTC(2026, 0, 1, 0, i)));
  }
  const entries = loadHistory(storage);
  assert.equal(entries.length, HISTORY_LIMIT);
  assert.equal(entries[0].title, "Song 25");
  assert.equal(entries[0].at, "2026-01-01T00:25:00.000Z");
  assert.equal(entries.at(-1).title, "Song 6");
});

test("history survives unreadable storage and can be cleared", () => {
  const storage = new MemoryStorage();
  storage.setItem(HISTORY_KEY, "{not json");
  assert.deepEqual(loadHistory(storage), []);
  addToHistory(storage, { songId: 1, title: "One", artist: "", coverUrl: "/covers/1/?v=ab" });
  assert.equal(loadHistory(storage)[0].coverUrl, "/covers/1/?v=ab");
  clearHistory(storage);
  assert.deepEqual(loadHistory(storage), []);
});
