/**
 * AudioWorkletProcessor "jamjar-capture": turns the microphone into 16-bit mono PCM frames.
 *
 * processorOptions:
 *   targetSampleRate  Hz of the PCM it posts (required)
 *   frameMs           about how much audio each frame holds, ms (default 250)
 *
 * Messages posted on its port:
 *   {type: "frame", pcm: ArrayBuffer}   little-endian int16 mono at targetSampleRate; transferred
 *   {type: "level", rms, peak}          of the input, linear 0..1, about 20 times a second
 *
 * Messages it accepts: {type: "stop"} ends processing.
 */
import { Resampler, floatToInt16 } from "./resampler.js";

const DEFAULT_FRAME_MS = 250;
const LEVELS_PER_SECOND = 20;

class CaptureProcessor extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const { targetSampleRate, frameMs = DEFAULT_FRAME_MS } = options.processorOptions ?? {};
    // `sampleRate` is the context's rate, a global of the worklet scope.
    this.resampler = new Resampler(sampleRate, targetSampleRate);
    // Raw input is gathered into blocks of frameMs and resampled a block at a time, so the
    // audio thread allocates a few times a second rather than on every 128-sample quantum.
    this.block = new Float32Array(Math.max(128, Math.round((sampleRate * frameMs) / 1000)));
    this.blockFill = 0;

    this.levelWindow = Math.round(sampleRate / LEVELS_PER_SECOND);
    this.levelCount = 0;
    this.levelSumSquares = 0;
    this.levelPeak = 0;

    this.running = true;
    this.port.onmessage = (event) => {
      if (event.data?.type === "stop") this.running = false;
    };
  }

  process(inputs) {
    if (!this.running) return false;
    const channels = inputs[0];
    // No channels: the source is not connected yet, or the track has ended.
    if (!channels || channels.length === 0) return true;

    const frameLength = channels[0].length;
    const scale = 1 / channels.length;
    for (let i = 0; i < frameLength; i += 1) {
      let sum = 0;
      for (let c = 0; c < channels.length; c += 1) sum += channels[c][i];
      const sample = sum * scale;

      this.block[this.blockFill] = sample;
      this.blockFill += 1;
      if (this.blockFill === this.block.length) this.postFrame();

      const magnitude = Math.abs(sample);
      this.levelSumSquares += sample * sample;
      if (magnitude > this.levelPeak) this.levelPeak = magnitude;
      this.levelCount += 1;
      if (this.levelCount === this.levelWindow) this.postLevel();
    }
    return true;
  }

  postFrame() {
    const pcm = floatToInt16(this.resampler.process(this.block));
    this.blockFill = 0;
    if (pcm.length > 0) {
      this.port.postMessage({ type: "frame", pcm: pcm.buffer }, [pcm.buffer]);
    }
  }

  postLevel() {
    this.port.postMessage({
      type: "level",
      rms: Math.sqrt(this.levelSumSquares / this.levelCount),
      peak: this.levelPeak,
    });
    this.levelCount = 0;
    this.levelSumSquares = 0;
    this.levelPeak = 0;
  }
}

registerProcessor("jamjar-capture", CaptureProcessor);
