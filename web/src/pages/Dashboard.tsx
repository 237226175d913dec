import { useMemo, useState } from 'react'
import { qs, type List } from '../api/client'
import type { Breakdown, Histogram, Meta } from '../api/types'
import { useGet, useTitle } from '../app/hooks'
import { useSession } from '../app/session'
import { Bars, TimeChart } from '../components/Chart'
import { Link } from '../components/Link'
import { ErrorText, Loading } from '../components/ui'
import { fmtNum, RANGES } from '../lib/format'

const REFRESH = [
  { label: 'Off', ms: 0 },
  { label: '30 seconds', ms: 30_000 },
  { label: '1 minute', ms: 60_000 },
  { label: '5 minutes', ms: 300_000 },
]

export default function Dashboard() {
  useTitle('Dashboard')
  const { can, me } = useSession()
  const [rangeIx, setRangeIx] = useState(1)
  const [refresh, setRefresh] = useState(60_000)
  if (!can('reports')) {
    return (
      <div>
        <h1>Welcome, {me.name || me.username}</h1>
        <p>Reports are for the admin and marketer roles. Use the navigation for the parts of ThamesThrive your roles cover.</p>
      </div>
    )
  }
  const r = RANGES[rangeIx]
  return (
    <div className="dashboard">
      <div className="page-head">
        <h1>Dashboard</h1>
        <div className="controls">
          <label>
            Time range{' '}
            <select value={rangeIx} onChange={(e) => setRangeIx(Number(e.target.value))}>
              {RANGES.map((x, i) => (
                <option key={x.range} value={i}>
                  {x.label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Auto-refresh{' '}
            <select value={refresh} onChange={(e) => setRefresh(Number(e.target.value))}>
              {REFRESH.map((x) => (
                <option key={x.ms} value={x.ms}>
                  {x.label}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <div className="panels">
        <HistogramPanel title="Events over time" path={'/reports/events/histogram' + qs({ range: r.range, interval: r.interval })} refresh={refresh} />
        <BreakdownPanel title="Top event types" path={'/reports/events/breakdown' + qs({ range: r.range, by: 'type', limit: 10 })} refresh={refresh} />
        <ActivePanel refresh={refresh} />
        <HistogramPanel title="New profiles" path={'/reports/profiles/new' + qs({ range: r.range, interval: r.interval })} refresh={refresh} color="#2a7d3f" />
        <SavedPanels refresh={refresh} />
      </div>
    </div>
  )
}

function Panel({ title, children, wide }: { title: string; children: React.ReactNode; wide?: boolean }) {
  return (
    <section className={'panel' + (wide ? ' wide' : '')} aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  )
}

function HistogramPanel({ title, path, refresh, color }: { title: string; path: string; refresh: number; color?: string }) {
  const { data, error } = useGet<Histogram>(path, refresh)
  const series = useMemo(() => {
    if (!data) return null
    return { times: data.buckets.map((b) => Date.parse(b.start) / 1000), counts: data.buckets.map((b) => b.count) }
  }, [data])
  return (
    <Panel title={title} wide>
      <ErrorText error={error} />
      {!data && !error && <Loading />}
      {data && series && (
        <>
          <p className="big">{fmtNum(data.total)}</p>
          <TimeChart label={title} times={series.times} counts={series.counts} color={color} />
        </>
      )}
    </Panel>
  )
}

function BreakdownPanel({ title, path, refresh }: { title: string; path: string; refresh: number }) {
  const { data, error } = useGet<Breakdown>(path, refresh)
  return (
    <Panel title={title}>
      <ErrorText error={error} />
      {!data && !error && <Loading />}
      {data && <Bars items={data.items} label={title.toLowerCase()} />}
    </Panel>
  )
}

function ActivePanel({ refresh, within = '30m' }: { refresh: number; within?: string }) {
  const { data, error } = useGet<{ count: number; within: string }>('/reports/sessions/active' + qs({ within }), refresh)
  return (
    <Panel title="Active sessions">
      <ErrorText error={error} />
      {data && (
        <>
          <p className="big">{fmtNum(data.count)}</p>
          <p className="muted">with an event in the last {data.within}</p>
        </>
      )}
    </Panel>
  )
}

type Definition = Meta & { kind: string; params: Record<string, string | number> }

function SavedPanels({ refresh }: { refresh: number }) {
  const { data, error } = useGet<List<Definition>>('/report-definitions?limit=50', 0)
  if (error) return <ErrorText error={error} />
  if (!data) return null
  const defs = data.items.filter((d) => d.enabled)
  return (
    <>
      {defs.map((d) => (
        <SavedPanel key={d.id + d.version} def={d} refresh={refresh} />
      ))}
      <p className="muted wide-note">
        {defs.length === 0 ? 'No saved reports yet. ' : ''}
        <Link to="/config/report-definitions">Manage saved reports</Link>
      </p>
    </>
  )
}

function SavedPanel({ def, refresh }: { def: Definition; refresh: number }) {
  const { data, error } = useGet<Histogram & Breakdown & { count: number }>(`/report-definitions/${encodeURIComponent(def.id)}/run`, refresh)
  const series = useMemo(
    () => (data?.buckets ? { times: data.buckets.map((b) => Date.parse(b.start) / 1000), counts: data.buckets.map((b) => b.count) } : null),
    [data],
  )
  return (
    <Panel title={def.name} wide={def.kind !== 'events-breakdown' && def.kind !== 'sessions-active'}>
      <ErrorText error={error} />
      {data && series && (
        <>
          <p className="big">{fmtNum(data.total)}</p>
          <TimeChart label={def.name} times={series.times} counts={series.counts} color="#8a4baf" />
        </>
      )}
      {data && data.items && <Bars items={data.items} label={def.name} />}
      {data && def.kind === 'sessions-active' && <p className="big">{fmtNum(data.count)}</p>}
    </Panel>
  )
}
