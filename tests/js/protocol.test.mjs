// The server's messages as the page reads them (static/js/protocol.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { ProtocolError, parseServerMessage } from "../../static/js/protocol.js";

const MATCH = {
  song_id: 3, title: "Brainsukker", artist: "Gerd", offset_seconds: 100.0, confidence: 310, score: 0.71,
};

test("a match carries its speed ratio", () => {
  const message = parseServerMessage(JSON.stringify({
    type: "match", match: { ...MATCH, speed_ratio: 1.03 }, seconds_listened: 2.5,
  }));
  assert.equal(message.type, "match");
  assert.equal(message.match.speedRatio, 1.03);
  assert.equal(message.match.offsetSeconds, 100.0);
});

test("a server that sends no speed ratio means an unchanged speed", () => {
  const message = parseServerMessage(JSON.stringify({ type: "match", match: MATCH, seconds_listened: 2.5 }));
  assert.equal(message.match.speedRatio, 1);
});

test("a speed ratio that is not a number is a protocol error", () => {
  assert.throws(
    () => parseServerMessage(JSON.stringify({ type: "match", match: { ...MATCH, speed_ratio: "fast" }, seconds_listened: 1 })),
    ProtocolError,
  );
});

test("a no match says why", () => {
  const message = parseServerMessage(JSON.stringify({
    type: "no_match", match: null, matches: [], seconds_listened: 15,
    no_match_reason: "7 aligned votes, fewer than the 10.0 needed", reason: "7 aligned votes, fewer than the 10.0 needed",
  }));
  assert.equal(message.type, "no_match");
  assert.equal(message.secondsListened, 15);
  assert.equal(message.noMatchReason, "7 aligned votes, fewer than the 10.0 needed");
});

test("a no match from a server that only sends reason still says why", () => {
  const message = parseServerMessage(JSON.stringify({ type: "no_match", seconds_listened: 4, reason: "no hash of the query is in the catalogue" }));
  assert.equal(message.noMatchReason, "no hash of the query is in the catalogue");
});

test("a no match without any reason has an empty one", () => {
  assert.equal(parseServerMessage(JSON.stringify({ type: "no_match", seconds_listened: 4 })).noMatchReason, "");
});

test("a match message with the whole answer still parses its match", () => {
  const message = parseServerMessage(JSON.stringify({
    type: "match", match: MATCH, matches: [MATCH], seconds: 2.5, query_hashes: 900, match_time_s: 0.02,
    timings: { fingerprint_s: 0.01, lookup_s: 0.01, align_s: 0.0, total_s: 0.02 }, no_match_reason: "",
    seconds_listened: 2.5,
  }));
  assert.equal(message.match.songId, 3);
  assert.equal(message.secondsListened, 2.5);
});
