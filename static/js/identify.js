/**
 * The "Identify this song" page: owns the microphone, the audio graph, the websocket and the
 * DOM. The capture itself runs in capture-worklet.js; the message format lives in protocol.js.
 */
import { certainty } from "./certainty.js";
import { addToHistory, clearHistory, loadHistory } from "./history.js";
import { ProtocolError, parseServerMessage, startMessage, stopMessage } from "./protocol.js";

const TARGET_SAMPLE_RATE_HZ = 16000;
const FRAME_MS = 250;
const BYTES_PER_SAMPLE = 2;
// Once max seconds of audio are sent, how long the server has to give its verdict.
const VERDICT_TIMEOUT_MS = 5000;
// The level meter shows the input's RMS from -60 dBFS (empty) to 0 dBFS (full).
const METER_FLOOR_DB = -60;
// After an answer, the position in the song moves on with the music at this step.
const POSITION_TICK_MS = 250;

// Music, not speech: the browser's voice processing would treat it as noise to remove.
const MICROPHONE_CONSTRAINTS = {
  audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
};

const root = document.getElementById("identify");
const config = {
  wsPath: root.dataset.wsPath || "/ws/identify/",
  maxSeconds: Number.parseFloat(root.dataset.maxSeconds) || 15,
  workletUrl: root.dataset.workletUrl,
};
const ui = {
  button: document.getElementById("start-button"),
  status: document.getElementById("status"),
  messages: document.getElementById("status-messages"),
  seconds: document.getElementById("seconds"),
  level: document.getElementById("level"),
  result: document.getElementById("result"),
  resultTitle: document.getElementById("result-title"),
  resultArtist: document.getElementById("result-artist"),
  resultOffset: document.getElementById("result-offset"),
  resultDuration: document.getElementById("result-duration"),
  resultCover: document.getElementById("result-cover"),
  resultCertainty: document.getElementById("result-certainty"),
  resultCertaintyBar: document.getElementById("result-certainty-bar"),
  resultDetails: document.getElementById("result-details"),
  tryAgain: document.getElementById("try-again"),
  history: document.getElementById("history"),
  historyEmpty: document.getElementById("history-empty"),
  historyClear: document.getElementById("history-clear"),
};

/** A failure with a message of its own in the page's #status-messages template. */
class CaptureFailure extends Error {
  constructor(messageKey, slots = {}) {
    super(messageKey);
    this.name = "CaptureFailure";
    this.messageKey = messageKey;
    this.slots = slots;
  }
}

function microphoneFailure(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return new CaptureFailure("permission-denied");
    case "NotFoundError":
    case "OverconstrainedError":
      return new CaptureFailure("no-microphone");
    case "NotReadableError":
      return new CaptureFailure("microphone-busy");
    default:
      return new CaptureFailure("microphone-failed", { detail: describe(error) });
  }
}

function describe(error) {
  if (error instanceof Error || error instanceof DOMException) {
    return error.message ? `${error.name}: ${error.message}` : error.name;
  }
  return String(error);
}

/** The #status data-state of each message: a few states, many explanations. */
function stateOf(messageKey) {
  switch (messageKey) {
    case "idle":
    case "stopped":
      return "idle";
    case "starting":
    case "listening":
    case "matching":
    case "match":
    case "no-match":
      return messageKey;
    default:
      return "error";
  }
}

function showStatus(messageKey, slots = {}) {
  if (ui.status.dataset.message === messageKey && Object.keys(slots).length === 0) return;
  const message = ui.messages.content.querySelector(`[data-message="${messageKey}"]`);
  const content = message.cloneNode(true);
  for (const slot of content.querySelectorAll("[data-slot]")) {
    slot.textContent = slots[slot.dataset.slot] ?? "";
  }
  ui.status.replaceChildren(...content.childNodes);
  ui.status.dataset.state = stateOf(messageKey);
  ui.status.dataset.message = messageKey;
}

function showButton(active) {
  ui.button.dataset.state = active ? "active" : "idle";
  ui.button.setAttribute("aria-pressed", String(active));
  ui.button.textContent = active ? "Stop" : "Start listening";
}

/** Seconds listened, never beyond the most the page sends (the last frame may overshoot). */
function showSeconds(seconds) {
  ui.seconds.textContent = Math.min(seconds, config.maxSeconds).toFixed(1);
}

function showLevel(rms) {
  const db = rms > 0 ? 20 * Math.log10(rms) : METER_FLOOR_DB;
  ui.level.value = Math.min(1, Math.max(0, 1 - db / METER_FLOOR_DB));
}

/** Seconds as m:ss, e.g. 100.4 -> "1:40". */
function formatPosition(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  const minutes = Math.floor(whole / 60);
  return `${minutes}:${String(whole % 60).padStart(2, "0")}`;
}

/**
 * The position in the song, moving on in real time from the answer: the match says where
 * the listening started, so the music is now that far in plus what was heard since.
 */
const positionClock = {
  timer: null,
  start(match, secondsListened) {
    this.stop();
    const startedAt = performance.now();
    const endS = match.durationS || Number.POSITIVE_INFINITY;
    const show = () => {
      // Music played fast moves through the song faster than the clock.
      const heardS = secondsListened + (performance.now() - startedAt) / 1000;
      const nowS = match.offsetSeconds + heardS * match.speedRatio;
      ui.resultOffset.textContent = formatPosition(Math.min(nowS, endS));
      if (nowS >= endS) this.stop();
    };
    show();
    this.timer = window.setInterval(show, POSITION_TICK_MS);
  },
  stop() {
    window.clearInterval(this.timer);
    this.timer = null;
  },
};

function showCover(img, coverUrl) {
  img.src = coverUrl || img.dataset.placeholder || ui.resultCover.dataset.placeholder;
}

function showResult(match, secondsListened) {
  ui.resultTitle.textContent = match.title || "Untitled";
  ui.resultArtist.textContent = match.artist || "Unknown artist";
  ui.resultDuration.textContent = match.durationS ? `of ${formatPosition(match.durationS)}` : "";
  showCover(ui.resultCover, match.coverUrl);
  ui.resultCover.alt = match.coverUrl ? `Cover of ${match.title || "the song"}` : "";
  const sure = certainty(match.ruleMargin ?? 1);
  ui.resultCertainty.textContent = sure.words;
  ui.resultCertaintyBar.style.width = `${Math.round(sure.fraction * 100)}%`;
  ui.resultCertaintyBar.parentElement.dataset.fraction = sure.fraction.toFixed(3);
  const details = [
    `${match.confidence} fingerprints agree`,
    `score ${match.score.toFixed(2)}`,
  ];
  if (match.ruleMargin != null) details.push(`${match.ruleMargin.toFixed(1)}× the no-match threshold`);
  if (match.speedRatio.toFixed(2) !== "1.00") details.push(`played at ${match.speedRatio.toFixed(2)}× speed`);
  details.push(`heard ${Math.min(secondsListened, config.maxSeconds).toFixed(1)} s`);
  ui.resultDetails.textContent = details.join(" · ");
  ui.result.hidden = false;
  positionClock.start(match, secondsListened);
}

function showHistory(entries) {
  const items = entries.map((entry) => {
    const item = document.createElement("li");
    const cover = document.createElement("img");
    cover.className = "history-cover";
    cover.alt = "";
    cover.width = 40;
    cover.height = 40;
    cover.loading = "lazy";
    cover.dataset.placeholder = ui.resultCover.dataset.placeholder;
    showCover(cover, entry.coverUrl);
    const text = document.createElement("span");
    text.className = "history-song";
    text.textContent = entry.artist ? `${entry.title} · ${entry.artist}` : entry.title;
    const time = document.createElement("time");
    time.dateTime = entry.at;
    time.textContent = new Date(entry.at).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
    item.append(cover, text, time);
    return item;
  });
  ui.history.replaceChildren(...items);
  ui.historyEmpty.hidden = entries.length > 0;
  ui.historyClear.hidden = entries.length === 0;
}

function remember(match) {
  try {
    showHistory(addToHistory(window.localStorage, match));
  } catch {
    // No localStorage (disabled by the user): the answer is still shown.
  }
}

function socketUrl(path) {
  const url = new URL(path, window.location.href);
  url.protocol = window.location.protocol === "https:" ? "wss:" : "ws:";
  return url.href;
}

/**
 * One press of the button: from asking for the microphone to the verdict. Every resource it
 * acquires is held in a field so that end() can release it at any point, even half-started.
 */
class Session {
  constructor() {
    this.ended = false;
    this.stream = null;
    this.context = null;
    this.source = null;
    this.node = null;
    this.socket = null;
    this.socketOpened = false;
    this.sendingAudio = false;
    this.stopSent = false;
    this.secondsSent = 0;
    this.verdictTimer = null;
  }

  async start() {
    showStatus("starting");
    if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
      throw new CaptureFailure("insecure");
    }
    if (typeof AudioWorkletNode === "undefined" || typeof WebSocket === "undefined") {
      throw new CaptureFailure("unsupported");
    }
    // Created while the click is still a user gesture, so no browser starts it suspended.
    // No sampleRate: the device's own rate, which Firefox requires to connect a microphone.
    this.context = new AudioContext();

    try {
      this.stream = await navigator.mediaDevices.getUserMedia(MICROPHONE_CONSTRAINTS);
    } catch (error) {
      throw microphoneFailure(error);
    }
    if (this.ended) return this.release();
    for (const track of this.stream.getAudioTracks()) {
      track.addEventListener("ended", () => this.fail(new CaptureFailure("microphone-ended")));
    }

    try {
      await this.context.audioWorklet.addModule(config.workletUrl);
    } catch (error) {
      throw new CaptureFailure("unexpected", {
        detail: `The audio processor could not be loaded (${describe(error)}).`,
      });
    }
    if (this.ended) return this.release();
    await this.context.resume();
    if (this.ended) return this.release();

    this.source = this.context.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(this.context, "jamjar-capture", {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions: { targetSampleRate: TARGET_SAMPLE_RATE_HZ, frameMs: FRAME_MS },
    });
    this.node.port.onmessage = (event) => this.onWorkletMessage(event.data);
    this.node.onprocessorerror = () => {
      this.fail(new CaptureFailure("unexpected", { detail: "The audio processor stopped." }));
    };

    this.socket = new WebSocket(socketUrl(config.wsPath));
    this.socket.binaryType = "arraybuffer";
    this.socket.onopen = () => this.onSocketOpen();
    this.socket.onmessage = (event) => this.onServerMessage(event.data);
    this.socket.onclose = (event) => this.onSocketClose(event);
    // An error event carries no detail; the close event that always follows explains.
    this.socket.onerror = () => {};
    return undefined;
  }

  onSocketOpen() {
    if (this.ended) return;
    this.socketOpened = true;
    this.socket.send(startMessage(TARGET_SAMPLE_RATE_HZ));
    // Audio flows only now, so every frame goes out after the start message.
    this.source.connect(this.node);
    // Not every browser runs a node whose output leads nowhere. The processor writes nothing
    // to its output, so this plays silence.
    this.node.connect(this.context.destination);
    this.sendingAudio = true;
  }

  onWorkletMessage(message) {
    if (this.ended) return;
    if (message.type === "level") {
      showLevel(message.rms);
    } else if (message.type === "frame" && this.sendingAudio) {
      this.socket.send(message.pcm);
      this.secondsSent += message.pcm.byteLength / BYTES_PER_SAMPLE / TARGET_SAMPLE_RATE_HZ;
      showSeconds(this.secondsSent);
      if (this.secondsSent >= config.maxSeconds) this.awaitVerdict();
    }
  }

  /** Enough audio is sent: let the microphone go and ask the server for its verdict. */
  awaitVerdict() {
    this.sendingAudio = false;
    this.releaseAudio();
    this.sendStop();
    showLevel(0);
    this.verdictTimer = window.setTimeout(
      () => this.fail(new CaptureFailure("no-answer")),
      VERDICT_TIMEOUT_MS,
    );
  }

  onServerMessage(data) {
    if (this.ended) return;
    let message;
    try {
      message = parseServerMessage(data);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.fail(new CaptureFailure("protocol-error", { detail: error.message }));
      return;
    }
    switch (message.type) {
      case "listening":
        if (ui.status.dataset.message === "starting") showStatus("listening");
        break;
      case "progress":
        showStatus("matching");
        break;
      case "match":
        this.end("match");
        showSeconds(message.secondsListened);
        showResult(message.match, message.secondsListened);
        remember(message.match);
        break;
      case "no_match":
        this.end("no-match", { reason: message.noMatchReason || "the server gave no reason" });
        showSeconds(message.secondsListened);
        break;
      case "error":
        this.fail(new CaptureFailure("server-error", {
          message: message.message || "no details given",
          code: message.code,
        }));
        break;
      default:
        break;
    }
  }

  onSocketClose(event) {
    if (this.ended) return;
    if (!this.socketOpened) {
      this.fail(new CaptureFailure("connect-failed"));
      return;
    }
    this.fail(new CaptureFailure("connection-lost", {
      code: String(event.code),
      reason: event.reason ? `: ${event.reason}` : "",
    }));
  }

  /** The user pressed Stop. */
  stop() {
    this.end("stopped");
  }

  fail(error) {
    if (error instanceof CaptureFailure) {
      this.end(error.messageKey, error.slots);
    } else {
      this.end("unexpected", { detail: describe(error) });
    }
  }

  end(messageKey, slots = {}) {
    if (this.ended) return;
    this.ended = true;
    this.release();
    showStatus(messageKey, slots);
    showButton(false);
    showLevel(0);
    ui.tryAgain.hidden = messageKey === "stopped";
    if (current === this) current = null;
  }

  releaseAudio() {
    if (this.stream) {
      for (const track of this.stream.getTracks()) track.stop();
      this.stream = null;
    }
    if (this.source) {
      this.source.disconnect();
      this.source = null;
    }
    if (this.node) {
      this.node.port.onmessage = null;
      this.node.port.postMessage({ type: "stop" });
      this.node.disconnect();
      this.node = null;
    }
    if (this.context) {
      this.context.close().catch(() => {});
      this.context = null;
    }
  }

  sendStop(socket = this.socket) {
    if (!this.stopSent && socket?.readyState === WebSocket.OPEN) {
      socket.send(stopMessage());
      this.stopSent = true;
    }
  }

  release() {
    window.clearTimeout(this.verdictTimer);
    this.sendingAudio = false;
    this.releaseAudio();
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.onclose = null;
      socket.onmessage = null;
      if (socket.readyState === WebSocket.OPEN) {
        this.sendStop(socket);
        socket.close(1000, "done");
      } else if (socket.readyState === WebSocket.CONNECTING) {
        // Closing a socket that is still connecting logs an error; close it once it opens.
        socket.onopen = () => socket.close(1000, "done");
      }
    }
  }
}

let current = null;

function startSession() {
  const session = new Session();
  current = session;
  positionClock.stop();
  ui.result.hidden = true;
  ui.tryAgain.hidden = true;
  showSeconds(0);
  showLevel(0);
  showButton(true);
  session.start().catch((error) => session.fail(error));
}

ui.button.addEventListener("click", () => {
  if (current) {
    current.stop();
  } else {
    startSession();
  }
});

ui.tryAgain.addEventListener("click", () => {
  if (!current) startSession();
});

ui.historyClear.addEventListener("click", () => {
  try {
    clearHistory(window.localStorage);
  } catch {
    // Nothing stored that could be cleared.
  }
  showHistory([]);
});

try {
  showHistory(loadHistory(window.localStorage));
} catch {
  showHistory([]);
}

// Leaving the page ends the session, so the microphone is not left open in a cached page.
window.addEventListener("pagehide", () => current?.stop());
