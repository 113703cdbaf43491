/**
 * How sure an answer is, in words and as a bar, from the no-match rule's margin: a match's
 * rule_margin is its aligned votes over what the rule required of it (1 = just named).
 * Raw vote counts are not shown as certainty: they grow with the catalogue and the clip.
 */

// Margins at which the words change, highest first. At 1 the rule just names the song;
// at 3 the song has three times the votes it needed.
const LEVELS = [
  { atLeast: 3, words: "Certain" },
  { atLeast: 1.5, words: "Sure" },
  { atLeast: 1, words: "Fairly sure" },
  { atLeast: 0, words: "Not sure yet" },
];
// The bar is full at this margin; from 1 up it grows with the margin's logarithm.
const FULL_MARGIN = 4;
const BAR_AT_MARGIN_1 = 0.25;

/**
 * @param {number} ruleMargin aligned votes over the no-match rule's bar (>= 0)
 * @returns {{words: string, fraction: number}} fraction of the bar to fill, 0..1
 */
export function certainty(ruleMargin) {
  const margin = Number.isFinite(ruleMargin) && ruleMargin > 0 ? ruleMargin : 0;
  const { words } = LEVELS.find((level) => margin >= level.atLeast);
  let fraction;
  if (margin < 1) {
    fraction = BAR_AT_MARGIN_1 * margin;
  } else {
    const growth = Math.log(margin) / Math.log(FULL_MARGIN);
    fraction = BAR_AT_MARGIN_1 + (1 - BAR_AT_MARGIN_1) * growth;
  }
  return { words, fraction: Math.min(1, Math.max(0, fraction)) };
}
