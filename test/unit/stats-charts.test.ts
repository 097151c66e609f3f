import { barChart, columnChart, lineChart, niceScale, shorten } from '../../src/http/charts';
import { renderView } from '../../src/http/render';
import { tFor } from '../../src/i18n';

describe('chart scales', () => {
  it.each<[number, number, number]>([
    [0, 1, 1],
    [1, 1, 0.5],
    [7, 8, 2],
    [42, 60, 20],
    [0.83, 1, 0.5],
    [1234, 1500, 500],
  ])('a maximum of %d gives an axis to %d by %d', (max, axis, step) => {
    const s = niceScale(max);
    expect(s.max).toBeCloseTo(axis, 10);
    expect(s.step).toBeCloseTo(step, 10);
  });

  it('long labels are shortened in the chart, never in its table', () => {
    expect(shorten('Vidéoprojecteur de la salle polyvalente du bâtiment C', 20)).toBe('Vidéoprojecteur de …');
    const chart = barChart({ id: 'c', title: 'T', desc: 'D', items: [{ label: 'Vidéoprojecteur de la salle polyvalente du bâtiment C', value: 2 }], labelHeader: 'L', valueHeader: 'V' });
    expect(chart.table.rows[0]!.head).toBe('Vidéoprojecteur de la salle polyvalente du bâtiment C');
  });
});

describe('chart geometry', () => {
  it('bars are proportional to their values and the largest fills the plot', () => {
    const chart = barChart({ id: 'c', title: 'T', desc: 'D', items: [{ label: 'a', value: 4 }, { label: 'b', value: 2 }, { label: 'c', value: 0 }], labelHeader: 'L', valueHeader: 'V' });
    const [a, b, c] = chart.rects;
    expect(b!.width * 2).toBeCloseTo(a!.width, 0);
    expect(c!.width).toBe(0);
    expect(a!.x + a!.width).toBeLessThanOrEqual(chart.width);
  });

  it('columns stand on the axis, one per series and category, with the numbers in the table', () => {
    const chart = columnChart({
      id: 'w',
      title: 'T',
      desc: 'D',
      categories: ['lundi', 'mardi'],
      series: [
        { name: 'Déclarés', cls: 's1', values: [3, 1] },
        { name: 'Résolus', cls: 's2', values: [0, 2] },
      ],
      categoryHeader: 'Jour',
    });
    expect(chart.rects).toHaveLength(4);
    const bottoms = new Set(chart.rects.map((r) => Math.round((r.y + r.height) * 10) / 10));
    expect(bottoms.size).toBe(1);
    expect(chart.table).toEqual({ caption: 'T', head: ['Jour', 'Déclarés', 'Résolus'], rows: [{ head: 'lundi', cells: ['3', '0'] }, { head: 'mardi', cells: ['1', '2'] }] });
    expect(chart.legend.map((l) => l.label)).toEqual(['Déclarés', 'Résolus']);
  });

  it('a line leaves a gap where a value is missing', () => {
    const chart = lineChart({ id: 'b', title: 'T', desc: 'D', categories: ['1', '2', '3', '4', '5'], series: [{ name: 'Ouverts', cls: 's4', values: [1, 2, null, 3, 4] }], categoryHeader: 'Semaine' });
    expect(chart.polylines).toHaveLength(2);
    expect(chart.table.rows[2]!.cells).toEqual(['—']);
  });
});

describe('the chart partial', () => {
  it('is an accessible SVG with title, desc and a table, everything escaped, no style attribute', async () => {
    const chart = barChart({ id: 'chart-x', title: 'Pannes <script>alert(1)</script>', desc: 'Le plus : "A & B"', items: [{ label: '<img src=x onerror=alert(1)>', value: 3 }], labelHeader: 'Équipement', valueHeader: 'Déclarés' });
    const html = await renderView('partials/chart', { chart, t: tFor('fr') });
    expect(html).toContain('<svg class="chart-svg" role="img" aria-labelledby="chart-x-title chart-x-desc"');
    expect(html).toContain('<title id="chart-x-title">Pannes &lt;script&gt;alert(1)&lt;/script&gt;</title>');
    expect(html).toContain('<desc id="chart-x-desc">Le plus : &#34;A &amp; B&#34;</desc>');
    expect(html).toContain('<table>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toMatch(/\sstyle=/);
  });
});
