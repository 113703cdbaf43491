/**
 * Streaming sample-rate conversion for mono float audio: an anti-alias low-pass, then linear
 * interpolation, with state kept across calls so chunking never changes the output.
 *
 * Knows nothing of AudioWorklets or the DOM, so it runs (and is tested) under Node as well.
 */

/** Blackman window: its first side lobe is about 74 dB down, its transition is 5.5 / taps. */
const BLACKMAN_TRANSITION_WIDTH = 5.5;

/**
 * Share of the output's sample rate kept by the low-pass. The pass band ends near
 * 0.4 * outputRate and the stop band starts at the output's Nyquist frequency (0.5 *
 * outputRate), so nothing above that folds back into the output.
 */
const CUTOFF_PER_OUTPUT_RATE = 0.45;
const TRANSITION_PER_OUTPUT_RATE = 0.1;

function greatestCommonDivisor(a, b) {
  while (b !== 0) {
    [a, b] = [b, a % b];
  }
  return a;
}

/**
 * Windowed-sinc low-pass taps (Blackman window, unit gain at 0 Hz).
 *
 * @param {number} cutoffPerInputRate cut-off as a fraction of the input rate (0 .. 0.5)
 * @param {number} tapCount odd number of taps
 * @returns {Float64Array} taps, symmetric, length tapCount
 */
function lowPassTaps(cutoffPerInputRate, tapCount) {
  const taps = new Float64Array(tapCount);
  const middle = (tapCount - 1) / 2;
  let sum = 0;
  for (let i = 0; i < tapCount; i += 1) {
    const t = i - middle;
    const sinc = t === 0
      ? 2 * cutoffPerInputRate
      : Math.sin(2 * Math.PI * cutoffPerInputRate * t) / (Math.PI * t);
    const phase = (2 * Math.PI * i) / (tapCount - 1);
    const window = 0.42 - 0.5 * Math.cos(phase) + 0.08 * Math.cos(2 * phase);
    taps[i] = sinc * window;
    sum += taps[i];
  }
  for (let i = 0; i < tapCount; i += 1) {
    taps[i] /= sum;
  }
  return taps;
}

/**
 * Converts a stream of float samples from inputRate to outputRate (integer rates in Hz).
 *
 * Downsampling first low-passes at the input rate (cut-off 0.45 * outputRate, stop band from
 * the output's Nyquist frequency), then interpolates linearly between the filtered samples.
 * Upsampling interpolates only: the input holds nothing above its own Nyquist frequency.
 *
 * Output sample j is the input signal at time j / outputRate: the filter's delay is taken out,
 * so the output runs (taps - 1) / 2 input samples behind what has been fed in.
 */
export class Resampler {
  /**
   * @param {number} inputRate input sample rate, Hz (a positive integer)
   * @param {number} outputRate output sample rate, Hz (a positive integer)
   */
  constructor(inputRate, outputRate) {
    for (const [name, rate] of [["inputRate", inputRate], ["outputRate", outputRate]]) {
      if (!Number.isInteger(rate) || rate <= 0) {
        throw new RangeError(`${name} must be a positive integer number of Hz, not ${rate}`);
      }
    }
    this.inputRate = inputRate;
    this.outputRate = outputRate;

    // Output sample j sits at input position j * inputStep / outputStep, an exact fraction.
    const divisor = greatestCommonDivisor(inputRate, outputRate);
    this.inputStep = inputRate / divisor;
    this.outputStep = outputRate / divisor;

    if (outputRate < inputRate) {
      const transition = (TRANSITION_PER_OUTPUT_RATE * outputRate) / inputRate;
      let tapCount = Math.ceil(BLACKMAN_TRANSITION_WIDTH / transition);
      if (tapCount % 2 === 0) tapCount += 1;
      this.taps = lowPassTaps((CUTOFF_PER_OUTPUT_RATE * outputRate) / inputRate, tapCount);
    } else {
      this.taps = Float64Array.of(1);
    }
    const historyLength = this.taps.length - 1;
    const delay = historyLength / 2;

    // The last (taps - 1) raw input samples, for the filter; zeros before the first call.
    this.history = new Float64Array(historyLength);
    // The newest filtered sample of the previous call, the left end of the next interpolation.
    this.lastFiltered = 0;
    // Next output position, in units of 1 / outputStep input samples, counted from the sample
    // held in lastFiltered. Output 0 is input sample 0, which leaves the filter `delay`
    // samples late, at filtered index `delay`, one after lastFiltered's index of -1.
    this.nextPosition = (1 + delay) * this.outputStep;

    this.raw = new Float64Array(0);
    this.filtered = new Float64Array(0);
  }

  /** The number of input samples the output lags behind the input (the filter's delay). */
  get delaySamples() {
    return (this.taps.length - 1) / 2;
  }

  /**
   * Resamples the next chunk of the stream.
   *
   * @param {Float32Array} input mono samples at inputRate, any length (may be empty)
   * @returns {Float32Array} the output samples this chunk completes, at outputRate
   */
  process(input) {
    const taps = this.taps;
    const historyLength = this.history.length;
    const rawLength = historyLength + input.length;
    if (this.raw.length < rawLength) {
      this.raw = new Float64Array(rawLength);
      this.filtered = new Float64Array(input.length + 1);
    }
    const raw = this.raw;
    raw.set(this.history, 0);
    for (let i = 0; i < input.length; i += 1) {
      raw[historyLength + i] = input[i];
    }

    // filtered[0] is the previous call's newest filtered sample; filtered[1 + i] is the
    // filter's output as input[i] arrives.
    const filtered = this.filtered;
    filtered[0] = this.lastFiltered;
    for (let i = 0; i < input.length; i += 1) {
      let sum = 0;
      for (let k = 0; k < taps.length; k += 1) {
        sum += taps[k] * raw[i + historyLength - k];
      }
      filtered[1 + i] = sum;
    }
    const filteredLength = input.length + 1;

    // Every output needs the filtered sample on each side of its position.
    const inputStep = this.inputStep;
    const outputStep = this.outputStep;
    const lastUsable = (filteredLength - 1) * outputStep;
    const outputLength = this.nextPosition < lastUsable
      ? Math.ceil((lastUsable - this.nextPosition) / inputStep)
      : 0;
    const output = new Float32Array(outputLength);
    let position = this.nextPosition;
    for (let j = 0; j < outputLength; j += 1) {
      const left = Math.floor(position / outputStep);
      const fraction = (position - left * outputStep) / outputStep;
      output[j] = filtered[left] + fraction * (filtered[left + 1] - filtered[left]);
      position += inputStep;
    }

    this.nextPosition = position - (filteredLength - 1) * outputStep;
    this.lastFiltered = filtered[filteredLength - 1];
    if (historyLength > 0) {
      this.history.set(raw.subarray(rawLength - historyLength, rawLength));
    }
    return output;
  }
}

/**
 * Converts float samples to signed 16-bit PCM, clamping to [-1, 1] first (NaN becomes 0).
 *
 * @param {Float32Array} samples floats, nominally in [-1, 1]
 * @returns {Int16Array} same length, -1 -> -32768 and 1 -> 32767
 */
export function floatToInt16(samples) {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i += 1) {
    const value = samples[i];
    const clamped = value > 1 ? 1 : value < -1 ? -1 : value || 0;
    pcm[i] = Math.round(clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff);
  }
  return pcm;
}
