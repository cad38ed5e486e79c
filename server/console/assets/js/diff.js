// A line diff by longest common subsequence: small, exact, and enough for
// scripts of a few thousand lines.

// maxCells bounds the table (lines of a × lines of b).
const maxCells = 4e6;

// lineDiff returns [{op: ' '|'-'|'+', text}] turning a into b, or null
// when the texts are too long to compare here.
export function lineDiff(a, b) {
  const x = split(a);
  const y = split(b);
  // Common head and tail need no table.
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const xs = x.slice(head, x.length - tail);
  const ys = y.slice(head, y.length - tail);
  const n = xs.length;
  const m = ys.length;
  if ((n + 1) * (m + 1) > maxCells) return null;
  // l[i][j] is the LCS length of xs[i:] and ys[j:].
  const w = m + 1;
  const l = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      l[i * w + j] = xs[i] === ys[j] ? l[(i + 1) * w + j + 1] + 1 : Math.max(l[(i + 1) * w + j], l[i * w + j + 1]);
    }
  }
  const out = x.slice(0, head).map((text) => ({ op: ' ', text }));
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (xs[i] === ys[j]) { out.push({ op: ' ', text: xs[i] }); i++; j++; }
    else if (l[(i + 1) * w + j] >= l[i * w + j + 1]) { out.push({ op: '-', text: xs[i] }); i++; }
    else { out.push({ op: '+', text: ys[j] }); j++; }
  }
  for (; i < n; i++) out.push({ op: '-', text: xs[i] });
  for (; j < m; j++) out.push({ op: '+', text: ys[j] });
  for (const text of x.slice(x.length - tail)) out.push({ op: ' ', text });
  return out;
}

function split(s) {
  if (!s) return [];
  const lines = s.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
