/**
 * The identify websocket's message protocol, as the browser sees it: the one client module
 * that knows the messages' names and fields.
 *
 * Client to server:
 *   text   {"type": "start", "sample_rate": <Hz>, "encoding": "pcm_s16le", "channels": 1}
 *   binary little-endian int16 mono PCM at the announced sample rate, any number of frames
 *   text   {"type": "stop"}
 *
 * Server to client (text):
 *   {"type": "listening"}
 *   {"type": "progress", "seconds": s, "candidate": <match or null>}
 *   {"type": "match", "match": <match>, "seconds_listened": s, ...the answer's other fields}
 *   {"type": "no_match", "seconds_listened": s, "no_match_reason": "...", ...the answer's other fields}
 *   {"type": "error", "code": "<short-name>", "message": "..."}
 * where <match> is {"song_id", "title", "artist", "offset_seconds", "confidence", "score",
 * "speed_ratio", "rule_margin", "duration_s", "cover_url"}. The final messages carry the whole
 * answer of `recognize --json` ("matches", "query_hashes", "timings", ...); fields the page does
 * not use are ignored.
 */

export const ENCODING = "pcm_s16le";
export const CHANNELS = 1;

/** A server message that is not JSON or not one of the messages above. */
export class ProtocolError extends Error {
  constructor(message) {
    super(message);
    this.name = "ProtocolError";
  }
}

/**
 * @param {number} sampleRateHz the rate of the binary frames that follow, Hz
 * @returns {string} the start message, as JSON text
 */
export function startMessage(sampleRateHz) {
  return JSON.stringify({
    type: "start",
    sample_rate: sampleRateHz,
    encoding: ENCODING,
    channels: CHANNELS,
  });
}

/** @returns {string} the stop message, as JSON text */
export function stopMessage() {
  return JSON.stringify({ type: "stop" });
}

function requireNumber(value, name) {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ProtocolError(`${name} is not a number`);
  }
  return value;
}

function optionalNumber(value, name) {
  return value === undefined || value === null ? null : requireNumber(value, name);
}

function optionalString(value) {
  return value === undefined || value === null ? "" : String(value);
}

function parseMatch(value, name) {
  if (value === null || typeof value !== "object") {
    throw new ProtocolError(`${name} is not an object`);
  }
  return {
    songId: value.song_id,
    title: optionalString(value.title),
    artist: optionalString(value.artist),
    offsetSeconds: requireNumber(value.offset_seconds, `${name}.offset_seconds`),
    confidence: requireNumber(value.confidence, `${name}.confidence`),
    score: requireNumber(value.score, `${name}.score`),
    // Newer fields: a server without them still gives a usable answer.
    ruleMargin: optionalNumber(value.rule_margin, `${name}.rule_margin`),
    durationS: optionalNumber(value.duration_s, `${name}.duration_s`),
    coverUrl: value.cover_url == null ? null : String(value.cover_url),
    // How fast the music runs against the song (1.03: played 3 % fast); 1 when not sent.
    speedRatio: optionalNumber(value.speed_ratio, `${name}.speed_ratio`) ?? 1,
  };
}

/**
 * Parses one text message from the server.
 *
 * @param {string} text the websocket message's data
 * @returns {{type: "listening"}
 *   | {type: "progress", seconds: number, candidate: object | null}
 *   | {type: "match", match: object, secondsListened: number}
 *   | {type: "no_match", secondsListened: number, noMatchReason: string}
 *   | {type: "error", code: string, message: string}}
 *   where a match is {songId, title, artist, offsetSeconds, confidence, score, ruleMargin,
 *   durationS, coverUrl, speedRatio} (ruleMargin, durationS and coverUrl null and
 *   speedRatio 1 when the server does not send them), and noMatchReason says why there was no
 *   match ("" when the server does not say)
 * @throws {ProtocolError} if the text is not one of the server's messages
 */
export function parseServerMessage(text) {
  if (typeof text !== "string") {
    throw new ProtocolError("the server sent a binary message");
  }
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ProtocolError("the server sent a message that is not JSON");
  }
  if (data === null || typeof data !== "object") {
    throw new ProtocolError("the server sent a message that is not an object");
  }
  switch (data.type) {
    case "listening":
      return { type: "listening" };
    case "progress":
      return {
        type: "progress",
        seconds: requireNumber(data.seconds, "seconds"),
        candidate: data.candidate == null ? null : parseMatch(data.candidate, "candidate"),
      };
    case "match":
      return {
        type: "match",
        match: parseMatch(data.match, "match"),
        secondsListened: requireNumber(data.seconds_listened, "seconds_listened"),
      };
    case "no_match":
      return {
        type: "no_match",
        secondsListened: requireNumber(data.seconds_listened, "seconds_listened"),
        // "reason" is the name servers used before the answer had no_match_reason.
        noMatchReason: optionalString(data.no_match_reason ?? data.reason),
      };
    case "error":
      return {
        type: "error",
        code: optionalString(data.code) || "error",
        message: optionalString(data.message),
      };
    default:
      throw new ProtocolError(`unknown message type ${JSON.stringify(data.type)}`);
  }
}
