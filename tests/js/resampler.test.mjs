// Tests for static/js/resampler.js; run with `node --test tests/js/`.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Resampler, floatToInt16 } from "../../static/js/resampler.js";

const INPUT_RATE_HZ = 44100;
const OUTPUT_RATE_HZ = 16000;

function sine(frequencyHz, sampleRateHz, durationS, amplitude = 0.5) {
  const samples = new Float32Array(Math.round(sampleRateHz * durationS));
  for (let i = 0; i < samples.length; i += 1) {
    samples[i] = amplitude * Math.sin((2 * Math.PI * frequencyHz * i) / sampleRateHz);
  }
  return samples;
}

// Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed.
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function resampleInChunks(samples, chunkLengths) {
  const resampler = new Resampler(INPUT_RATE_HZ, OUTPUT_RATE_HZ);
  const pieces = [];
  let start = 0;
  for (const length of chunkLengths) {
    pieces.push(resampler.process(samples.subarray(start, start + length)));
    start += length;
  }
  pieces.push(resampler.process(samples.subarray(start)));
  const output = new Float32Array(pieces.reduce((total, piece) => total + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    output.set(piece, offset);
    offset += piece.length;
  }
  return output;
}

function randomChunkLengths(total, random, maxLength) {
  const lengths = [];
  let used = 0;
  while (used < total) {
    const length = Math.min(total - used, Math.floor(random() * maxLength));
    lengths.push(length); // zero-length chunks included on purpose
    used += length;
  }
  return lengths;
}

// Amplitude of one frequency in a signal (a single DFT bin with a Hann window).
function amplitudeAt(samples, frequencyHz, sampleRateHz) {
  let re = 0;
  let im = 0;
  let windowSum = 0;
  const n = samples.length;
  for (let i = 0; i < n; i += 1) {
    const window = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    const phase = (2 * Math.PI * frequencyHz * i) / sampleRateHz;
    re += samples[i] * window * Math.cos(phase);
    im -= samples[i] * window * Math.sin(phase);
    windowSum += window;
  }
  return (2 * Math.hypot(re, im)) / windowSum;
}

function rms(samples) {
  let sum = 0;
  for (const value of samples) sum += value * value;
  return Math.sqrt(sum / samples.length);
}

test("random-sized chunks give the same output as one chunk", () => {
  const input = sine(1000, INPUT_RATE_HZ, 2);
  const whole = resampleInChunks(input, []);
  for (const seed of [1, 2, 3]) {
    const random = seededRandom(seed);
    const maxLength = [7, 128, 5000][seed - 1];
    const chunked = resampleInChunks(input, randomChunkLengths(input.length, random, maxLength));
    assert.equal(chunked.length, whole.length, `seed ${seed}: output length`);
    for (let i = 0; i < whole.length; i += 1) {
      assert.ok(
        Math.abs(chunked[i] - whole[i]) <= 1e-6,
        `seed ${seed}: sample ${i} is ${chunked[i]}, not ${whole[i]}`,
      );
    }
  }
});

test("output length is the input length times 16000 / 44100, less the filter delay", () => {
  const input = sine(1000, INPUT_RATE_HZ, 3);
  const resampler = new Resampler(INPUT_RATE_HZ, OUTPUT_RATE_HZ);
  const output = resampler.process(input);
  const expected = (input.length * OUTPUT_RATE_HZ) / INPUT_RATE_HZ;
  const delayOutputSamples = (resampler.delaySamples * OUTPUT_RATE_HZ) / INPUT_RATE_HZ;
  assert.ok(
    Math.abs(output.length - (expected - delayOutputSamples)) <= 1,
    `${output.length} samples, expected about ${expected - delayOutputSamples}`,
  );
  // The delay is a few milliseconds, not a noticeable share of the audio.
  assert.ok(resampler.delaySamples / INPUT_RATE_HZ < 0.005);
});

test("output sample j is the input at time j / 16000 (the filter delay is taken out)", () => {
  const input = sine(440, INPUT_RATE_HZ, 1);
  const output = new Resampler(INPUT_RATE_HZ, OUTPUT_RATE_HZ).process(input);
  const expected = sine(440, OUTPUT_RATE_HZ, 1);
  // Skip the start, where the filter is still filling with the zeros before the signal.
  for (let j = 200; j < output.length; j += 1) {
    assert.ok(Math.abs(output[j] - expected[j]) < 0.01, `sample ${j}: ${output[j]} vs ${expected[j]}`);
  }
});

test("a 1 kHz tone is still 1 kHz at full level after resampling", () => {
  const output = new Resampler(INPUT_RATE_HZ, OUTPUT_RATE_HZ).process(sine(1000, INPUT_RATE_HZ, 1));
  const probesHz = [250, 500, 900, 1000, 1100, 2000, 3000, 5000, 7000];
  const amplitudes = probesHz.map((hz) => amplitudeAt(output, hz, OUTPUT_RATE_HZ));
  const loudest = probesHz[amplitudes.indexOf(Math.max(...amplitudes))];
  assert.equal(loudest, 1000);
  const gainDb = 20 * Math.log10(amplitudes[probesHz.indexOf(1000)] / 0.5);
  assert.ok(Math.abs(gainDb) < 0.5, `1 kHz gain ${gainDb.toFixed(2)} dB`);
});

test("a 10 kHz tone, above the new 8 kHz Nyquist frequency, is attenuated by at least 20 dB", () => {
  const input = sine(10000, INPUT_RATE_HZ, 1);
  const output = new Resampler(INPUT_RATE_HZ, OUTPUT_RATE_HZ).process(input);
  // Without a filter it would fold back to 16000 - 10000 = 6000 Hz at full level.
  const steady = output.subarray(200);
  const attenuationDb = 20 * Math.log10(rms(input) / rms(steady));
  assert.ok(attenuationDb >= 20, `attenuated by only ${attenuationDb.toFixed(1)} dB`);
  const aliasDb = 20 * Math.log10(amplitudeAt(steady, 6000, OUTPUT_RATE_HZ) / 0.5);
  assert.ok(aliasDb <= -20, `6 kHz alias at ${aliasDb.toFixed(1)} dB`);
});

test("48 kHz to 16 kHz and 16 kHz to 16 kHz work too", () => {
  const down = new Resampler(48000, OUTPUT_RATE_HZ).process(sine(1000, 48000, 1));
  const downDb = 20 * Math.log10(amplitudeAt(down, 1000, OUTPUT_RATE_HZ) / 0.5);
  assert.ok(Math.abs(downDb) < 0.5, `1 kHz gain ${downDb.toFixed(2)} dB`);

  const same = sine(1000, OUTPUT_RATE_HZ, 0.1);
  const copied = new Resampler(OUTPUT_RATE_HZ, OUTPUT_RATE_HZ).process(same);
  assert.equal(copied.length, same.length - 1); // the newest sample waits for its neighbour
  assert.deepEqual(copied, same.subarray(0, same.length - 1));
});

test("rates must be positive integers", () => {
  assert.throws(() => new Resampler(44100.5, 16000), RangeError);
  assert.throws(() => new Resampler(44100, 0), RangeError);
});

test("floatToInt16 scales and clamps", () => {
  const pcm = floatToInt16(Float32Array.of(0, 1, -1, 0.5, -0.5, 2, -3, Number.NaN, Infinity));
  assert.ok(pcm instanceof Int16Array);
  assert.deepEqual(Array.from(pcm), [0, 32767, -32768, 16384, -16384, 32767, -32768, 0, 32767]);
});
