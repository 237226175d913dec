// Formatting of times, numbers and time ranges for the reports.

export function fmtTime(s: string | undefined | null): string {
  if (!s) return '—'
  const d = new Date(s)
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() < 1971) return '—'
  return d.toISOString().replace('T', ' ').slice(0, 19) + 'Z'
}

export function fmtNum(n: number | undefined | null): string {
  if (n === undefined || n === null) return '—'
  return n.toLocaleString('en-GB')
}

// fmtTotal shows a list's total; a search that stopped counting ("gte") shows "10,000+".
export function fmtTotal(total: number, relation?: 'eq' | 'gte'): string {
  return fmtNum(total) + (relation === 'gte' ? '+' : '')
}

export interface RangeChoice {
  label: string
  range: string
  interval: string
}

/** The dashboard's time ranges; each keeps the histogram under the API's 2000 buckets. */
export const RANGES: RangeChoice[] = [
  { label: 'Last hour', range: '1h', interval: '1m' },
  { label: 'Last 24 hours', range: '24h', interval: '1h' },
  { label: 'Last 7 days', range: '7d', interval: '1h' },
  { label: 'Last 30 days', range: '30d', interval: '1d' },
  { label: 'Last 90 days', range: '90d', interval: '1d' },
]

const UNIT: Record<string, number> = { m: 60, h: 3600, d: 86400, w: 604800 }

/** seconds parses 1m, 24h, 7d, 1w. */
export function seconds(d: string): number {
  const m = /^(\d+)([mhdw])$/.exec(d)
  if (!m) return NaN
  return Number(m[1]) * UNIT[m[2]]
}

/** buckets is how many histogram buckets a range at an interval gives. */
export function buckets(range: string, interval: string): number {
  return Math.ceil(seconds(range) / seconds(interval))
}

/** debounce delays f until ms have passed without a new call. */
export function debounce<A extends unknown[]>(f: (...a: A) => void, ms: number): ((...a: A) => void) & { cancel(): void } {
  let t: ReturnType<typeof setTimeout> | undefined
  const d = (...a: A) => {
    if (t) clearTimeout(t)
    t = setTimeout(() => f(...a), ms)
  }
  d.cancel = () => t && clearTimeout(t)
  return d
}
