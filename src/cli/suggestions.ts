/**
 * Commander suggests any option within 3 edits of an unknown one, which makes a short option the
 * suggestion for unrelated words ("--reason" -> "--json"). An option is kept as a suggestion only
 * when the edits needed are fewer than half of its own letters: "--ca-password" still suggests
 * "--password", a typo still its option.
 */
export function closeEnough(typed: string, suggested: string): boolean {
  const word = suggested.replace(/^--?/, '');
  return editDistance(typed.replace(/^--?/, ''), word) * 2 < word.length;
}

/** Optimal string alignment distance (Levenshtein with transpositions), as commander measures. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}
