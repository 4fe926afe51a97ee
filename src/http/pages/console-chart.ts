/**
 * Bar charts drawn on the server as SVG for the support console (issue 22): no script, no library, nothing from
 * another origin; colours as SVG presentation attributes, which the pages' CSP allows (it forbids inline
 * `style`). Each chart is an image with a title for screen readers, and its figures are also a table, so nothing
 * is only in the picture.
 * @module
 */
import { html, joinHtml, type SafeHtml } from './html.js';

export interface Bar {
  /** Under the bar (short: an hour, a day). */
  readonly label: string;
  /** In the table and the bar's tooltip (e.g. "2026-12-03 14:00 UTC"). */
  readonly longLabel: string;
  readonly value: number;
}

const WIDTH = 720;
const HEIGHT = 200;
const AXIS = 24;
const TOP = 16;

export function barChart(id: string, title: string, bars: readonly Bar[], labelEvery = 1): SafeHtml {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const slot = WIDTH / Math.max(1, bars.length);
  const plot = HEIGHT - AXIS - TOP;
  const rects = joinHtml(
    bars.map((b, i) => {
      const h = Math.round((b.value / max) * plot);
      const x = Math.round(i * slot + slot * 0.15);
      const w = Math.max(1, Math.round(slot * 0.7));
      return html`<rect x="${x}" y="${TOP + plot - h}" width="${w}" height="${h}" fill="#0b4fb3">
          <title>${b.longLabel}: ${b.value}</title> </rect
        >${
          i % labelEvery === 0
            ? html`<text
                x="${Math.round(i * slot + slot / 2)}"
                y="${HEIGHT - 6}"
                text-anchor="middle"
                font-size="12"
                fill="#1b1b1f"
                >${b.label}</text
              >`
            : ''
        }`;
    }),
  );
  const total = bars.reduce((n, b) => n + b.value, 0);
  return html`<figure class="chart">
    <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="${id}-title">
      <title id="${id}-title">${title}: ${total} in all, at most ${max} in one bar</title>
      <line x1="0" y1="${TOP + plot}" x2="${WIDTH}" y2="${TOP + plot}" stroke="#45474f" stroke-width="1" />
      <text x="4" y="12" font-size="12" fill="#1b1b1f">${max}</text>
      ${rects}
    </svg>
    <figcaption>${title}</figcaption>
    <details>
      <summary>The figures</summary>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Tokens</th>
            </tr>
          </thead>
          <tbody>
            ${joinHtml(
              bars.map(
                (b) =>
                  html`<tr>
                    <td>${b.longLabel}</td>
                    <td>${b.value}</td>
                  </tr>`,
              ),
            )}
          </tbody>
        </table>
      </div>
    </details>
  </figure>`;
}

/** The last 24 hours, one bar an hour, and the last 7 days, one bar a day, from tokens per hour start. */
export function tokenBars(perHour: ReadonlyMap<number, number>, now: number): { day: Bar[]; week: Bar[] } {
  const HOUR = 3_600_000;
  const thisHour = Math.floor(now / HOUR) * HOUR;
  const day: Bar[] = [];
  for (let i = 23; i >= 0; i--) {
    const at = thisHour - i * HOUR;
    const iso = new Date(at).toISOString();
    day.push({
      label: iso.slice(11, 13),
      longLabel: `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`,
      value: perHour.get(at) ?? 0,
    });
  }
  const DAY = 24 * HOUR;
  const today = Math.floor(now / DAY) * DAY;
  const week: Bar[] = [];
  for (let i = 6; i >= 0; i--) {
    const from = today - i * DAY;
    let value = 0;
    for (const [at, n] of perHour) if (at >= from && at < from + DAY) value += n;
    const iso = new Date(from).toISOString().slice(0, 10);
    week.push({ label: iso.slice(5), longLabel: iso, value });
  }
  return { day, week };
}
