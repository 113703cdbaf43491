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
