// A small Prometheus registry: gauges, counters and histograms with labels, rendered in the
// text exposition format (version 0.0.4). The worker needs only these three kinds, so this
// avoids a dependency; the exposition format is small and stable.

export type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: 'gauge' | 'counter' | 'histogram';
  render(): string[];
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

export function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k])}"`).join(',')}}`;
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Series keyed by their label values in the family's label order. */
class SeriesMap<T> {
  private readonly series = new Map<string, { labels: Labels; value: T }>();
  constructor(private readonly labelNames: readonly string[]) {}

  private key(labels: Labels): string {
    for (const k of Object.keys(labels)) if (!this.labelNames.includes(k)) throw new Error(`unknown label '${k}'`);
    return JSON.stringify(this.labelNames.map((n) => labels[n] ?? ''));
  }
  private ordered(labels: Labels): Labels {
    return Object.fromEntries(this.labelNames.map((n) => [n, labels[n] ?? '']));
  }
  get(labels: Labels, init: () => T): T {
    const k = this.key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, (s = { labels: this.ordered(labels), value: init() }));
    return s.value;
  }
  set(labels: Labels, value: T) {
    this.series.set(this.key(labels), { labels: this.ordered(labels), value });
  }
  delete(labels: Labels) {
    this.series.delete(this.key(labels));
  }
  /** Drops every series whose labels match all of `match`. */
  deleteMatching(match: Labels) {
    for (const [k, s] of this.series) if (Object.entries(match).every(([n, v]) => s.labels[n] === v)) this.series.delete(k);
  }
  clear() {
    this.series.clear();
  }
  entries() {
    return [...this.series.values()];
  }
}

/** A value per label set that may go up and down, or be replaced wholesale each collection. */
export class Gauge implements Family {
  readonly type: 'gauge' | 'counter' = 'gauge';
  protected readonly values: SeriesMap<number>;
  constructor(
    readonly name: string,
    readonly help: string,
    labelNames: readonly string[] = [],
  ) {
    this.values = new SeriesMap(labelNames);
  }
  set(labels: Labels, v: number) {
    this.values.set(labels, v);
  }
  remove(labels: Labels) {
    this.values.delete(labels);
  }
  removeMatching(labels: Labels) {
    this.values.deleteMatching(labels);
  }
  reset() {
    this.values.clear();
  }
  render(): string[] {
    return this.values.entries().map((s) => `${this.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }
}

/**
 * A counter whose value is read from a source of truth that already counts (e.g. a workflow's
 * restart count), so it is set rather than incremented: nothing here can count twice.
 */
export class ObservedCounter extends Gauge {
  override readonly type = 'counter' as const;
}

interface HistogramValue {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram implements Family {
  readonly type = 'histogram' as const;
  private readonly values: SeriesMap<HistogramValue>;
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
    labelNames: readonly string[] = [],
  ) {
    this.values = new SeriesMap(labelNames);
  }
  observe(labels: Labels, v: number) {
    const h = this.values.get(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (const [i, le] of this.buckets.entries()) if (v <= le) h.counts[i]++;
    h.sum += v;
    h.count++;
  }
  removeMatching(labels: Labels) {
    this.values.deleteMatching(labels);
  }
  render(): string[] {
    const lines: string[] = [];
    for (const { labels, value } of this.values.entries()) {
      for (const [i, le] of this.buckets.entries())
        lines.push(`${this.name}_bucket${formatLabels({ ...labels, le: formatValue(le) })} ${value.counts[i]}`);
      lines.push(`${this.name}_bucket${formatLabels({ ...labels, le: '+Inf' })} ${value.count}`);
      lines.push(`${this.name}_sum${formatLabels(labels)} ${formatValue(value.sum)}`);
      lines.push(`${this.name}_count${formatLabels(labels)} ${value.count}`);
    }
    return lines;
  }
}

export class Registry {
  private readonly families: Family[] = [];
  register<F extends Family>(f: F): F {
    if (this.families.some((x) => x.name === f.name)) throw new Error(`metric ${f.name} registered twice`);
    this.families.push(f);
    return f;
  }
  /** The exposition text: HELP and TYPE for every family, even one with no series yet. */
  render(): string {
    const out: string[] = [];
    for (const f of this.families) {
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`, ...f.render());
    }
    return out.join('\n') + '\n';
  }
}
