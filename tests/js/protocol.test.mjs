// The server's messages as the page reads them (static/js/protocol.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CHANNELS, ENCODING, ProtocolError, parseServerMessage, startMessage, stopMessage,
} from "../../static/js/protocol.js";

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

const parse = (data) => parseServerMessage(JSON.stringify(data));

test("the start message announces the rate, 16-bit little-endian PCM and one channel", () => {
  assert.deepEqual(JSON.parse(startMessage(44100)), {
    type: "start", sample_rate: 44100, encoding: "pcm_s16le", channels: 1,
  });
  assert.equal(ENCODING, "pcm_s16le");
  assert.equal(CHANNELS, 1);
});

test("the stop message is only its type", () => {
  assert.deepEqual(JSON.parse(stopMessage()), { type: "stop" });
});

test("listening carries nothing else", () => {
  assert.deepEqual(parse({ type: "listening", extra: 1 }), { type: "listening" });
});

test("progress without a candidate", () => {
  assert.deepEqual(parse({ type: "progress", seconds: 1.5, candidate: null }), {
    type: "progress", seconds: 1.5, candidate: null,
  });
  assert.equal(parse({ type: "progress", seconds: 2 }).candidate, null);
});

test("progress with a candidate gives it in the page's names", () => {
  const message = parse({
    type: "progress",
    seconds: 3,
    candidate: { ...MATCH, rule_margin: 0.8, duration_s: 201.5, cover_url: "/api/songs/3/cover/?v=ab12cd34" },
  });
  assert.deepEqual(message.candidate, {
    songId: 3,
    title: "Brainsukker",
    artist: "Gerd",
    offsetSeconds: 100.0,
    confidence: 310,
    score: 0.71,
    ruleMargin: 0.8,
    durationS: 201.5,
    coverUrl: "/api/songs/3/cover/?v=ab12cd34",
    speedRatio: 1,
  });
});

test("a match from a server without the newer fields has them empty", () => {
  const { match } = parse({ type: "match", match: { ...MATCH, title: null, artist: undefined }, seconds_listened: 4 });
  assert.equal(match.title, "");
  assert.equal(match.artist, "");
  assert.equal(match.ruleMargin, null);
  assert.equal(match.durationS, null);
  assert.equal(match.coverUrl, null);
});

test("a match says how long the server listened", () => {
  assert.equal(parse({ type: "match", match: MATCH, seconds_listened: 2.5 }).secondsListened, 2.5);
});

test("no_match says how long the server listened", () => {
  assert.deepEqual(parse({ type: "no_match", seconds_listened: 15 }), {
    type: "no_match", secondsListened: 15, noMatchReason: "",
  });
});

test("an error keeps its code and message, and has a code when the server sent none", () => {
  assert.deepEqual(parse({ type: "error", code: "too-many-frames", message: "Too many audio frames." }), {
    type: "error", code: "too-many-frames", message: "Too many audio frames.",
  });
  assert.deepEqual(parse({ type: "error" }), { type: "error", code: "error", message: "" });
});

for (const [name, data] of [
  ["a match without offset_seconds", { type: "match", match: { ...MATCH, offset_seconds: undefined }, seconds_listened: 1 }],
  ["a match whose confidence is text", { type: "match", match: { ...MATCH, confidence: "310" }, seconds_listened: 1 }],
  ["a match without its score", { type: "match", match: { ...MATCH, score: null }, seconds_listened: 1 }],
  ["a match that is not an object", { type: "match", match: "Brainsukker", seconds_listened: 1 }],
  ["a match without seconds_listened", { type: "match", match: MATCH }],
  ["a rule margin that is not a number", { type: "match", match: { ...MATCH, rule_margin: "1.2" }, seconds_listened: 1 }],
  ["progress without seconds", { type: "progress", candidate: null }],
  ["progress whose candidate is a number", { type: "progress", seconds: 1, candidate: 3 }],
  ["no_match whose seconds are text", { type: "no_match", seconds_listened: "15" }],
  ["an unknown type", { type: "goodbye" }],
  ["an object without a type", { seconds: 1 }],
]) {
  test(`${name} is a protocol error`, () => {
    assert.throws(() => parse(data), ProtocolError);
  });
}

for (const [name, text, why] of [
  ["text that is not JSON", "{type: match", /not JSON/],
  ["JSON null", "null", /not an object/],
  ["a JSON number", "42", /not an object/],
  ["a binary message", new ArrayBuffer(4), /binary/],
]) {
  test(`${name} is a protocol error that says why`, () => {
    assert.throws(() => parseServerMessage(text), (error) => error instanceof ProtocolError && why.test(error.message));
  });
}

test("a protocol error names itself", () => {
  const error = new ProtocolError("bad");
  assert.ok(error instanceof Error);
  assert.equal(error.name, "ProtocolError");
  assert.equal(error.message, "bad");
});
