import { useCallback, useEffect, useState, type ReactNode } from 'react'
import { get, post, qs, type List } from '../../api/client'
import type { Event, Profile, Session } from '../../api/types'
import { useLocation, useTitle } from '../../app/hooks'
import { ConditionBox } from '../../components/ConditionBox'
import { Link } from '../../components/Link'
import { ErrorText, Pager, Table, type Column, type SortState } from '../../components/ui'
import { ApiError } from '../../lib/errors'
import { fmtNum, fmtTime, fmtTotal } from '../../lib/format'
import { getPath } from '../../lib/schema'

type Kind = 'profiles' | 'sessions' | 'events'
type Doc = Profile | Session | Event

const LIMIT = 25

const columns: Record<Kind, Column<Doc>[]> = {
  profiles: [
    { key: 'id', label: 'Profile', render: (p) => <Link to={'/profiles/' + encodeURIComponent(p.id)}>{p.id}</Link> },
    { key: 'email', label: 'E-mail', render: (p) => str(getPath(p, 'data.contact.email.main')), sort: 'data.contact.email.main' },
    { key: 'visits', label: 'Visits', render: (p) => fmtNum(getPath(p, 'stats.visits') as number), sort: 'stats.visits' },
    { key: 'views', label: 'Views', render: (p) => fmtNum(getPath(p, 'stats.views') as number), sort: 'stats.views' },
    { key: 'segments', label: 'Segments', render: (p) => ((p as Profile).segments ?? []).join(', ') },
    { key: 'updated', label: 'Updated', render: (p) => fmtTime(getPath(p, 'metadata.time.update') as string), sort: 'metadata.time.update' },
    { key: 'created', label: 'Created', render: (p) => fmtTime(getPath(p, 'metadata.time.insert') as string), sort: 'metadata.time.insert' },
  ],
  sessions: [
    { key: 'id', label: 'Session', render: (s) => <Link to={'/sessions/' + encodeURIComponent(s.id)}>{s.id}</Link> },
    { key: 'profile', label: 'Profile', render: (s) => profileLink((s as Session).profile?.id) },
    { key: 'device', label: 'Device', render: (s) => str(getPath(s, 'device.type')), sort: 'device.type' },
    { key: 'os', label: 'OS', render: (s) => str(getPath(s, 'os.name')), sort: 'os.name' },
    { key: 'start', label: 'Started', render: (s) => fmtTime(getPath(s, 'metadata.time.insert') as string), sort: 'metadata.time.insert' },
  ],
  events: [
    { key: 'id', label: 'Event', render: (e) => <Link to={'/events/' + encodeURIComponent(e.id)}>{(e as Event).type}</Link>, sort: 'type' },
    { key: 'source', label: 'Source', render: (e) => str(getPath(e, 'source.id')), sort: 'source.id' },
    { key: 'profile', label: 'Profile', render: (e) => profileLink((e as Event).profile?.id) },
    { key: 'status', label: 'Status', render: (e) => str(getPath(e, 'metadata.status')), sort: 'metadata.status' },
    { key: 'time', label: 'Time', render: (e) => fmtTime(getPath(e, 'metadata.time.insert') as string), sort: 'metadata.time.insert' },
  ],
}

const examples: Record<Kind, string> = {
  profiles: 'data.contact.email.main == "ann@example.com" OR stats.visits > 3',
  sessions: 'device.type == "mobile"',
  events: 'type == "page-view" AND metadata.time.insert > now.offset("-1d")',
}

function str(v: unknown): ReactNode {
  return v === undefined || v === null || v === '' ? <span className="muted">—</span> : String(v)
}

function profileLink(id: string | undefined) {
  return id ? <Link to={'/profiles/' + encodeURIComponent(id)}>{id}</Link> : <span className="muted">—</span>
}

/** Explorer searches profiles, sessions or events with the condition language. */
export default function Explorer() {
  const kind = useLocation().split('?')[0].slice(1) as Kind
  return <ExplorerOf key={kind} kind={kind} />
}

function ExplorerOf({ kind }: { kind: Kind }) {
  const title = kind[0].toUpperCase() + kind.slice(1)
  useTitle(title)
  const [where, setWhere] = useState('')
  const [applied, setApplied] = useState('')
  const [sort, setSort] = useState<SortState | null>(null)
  const [offset, setOffset] = useState(0)
  const [result, setResult] = useState<List<Doc> | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [busy, setBusy] = useState(false)

  const run = useCallback(async () => {
    setBusy(true)
    try {
      // Unfiltered, unsorted profiles are the plain list; anything else is a search.
      const res =
        kind === 'profiles' && !applied.trim() && !sort
          ? await get<List<Doc>>('/profiles' + qs({ limit: LIMIT, offset }))
          : await post<List<Doc>>(`/${kind}/search`, {
              where: applied,
              limit: LIMIT,
              offset,
              sort: sort ? [{ field: sort.field, order: sort.order }] : [],
            })
      setResult(res)
      setError(null)
    } catch (e) {
      setError(e)
      setResult(null)
    } finally {
      setBusy(false)
    }
  }, [kind, applied, offset, sort])

  useEffect(() => {
    void run()
  }, [run])

  const search = () => {
    setOffset(0)
    if (where === applied) void run()
    else setApplied(where)
  }
  const whereError = error instanceof ApiError && error.field === 'where' ? error.message.replace(/^where: /, '') : undefined
  return (
    <div>
      <h1>{title}</h1>
      <form
        className="search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault()
          search()
        }}
      >
        <ConditionBox
          label={`Condition on ${kind}`}
          value={where}
          onChange={setWhere}
          onSubmit={search}
          error={whereError}
          placeholder={examples[kind]}
          help="Fields without a scope are fields of the searched documents. Enter searches; Shift+Enter adds a line. Empty: everything."
        />
        <button className="primary" type="submit" disabled={busy}>
          Search
        </button>
      </form>
      {!whereError && <ErrorText error={error} />}
      {result && (
        <>
          <p className="muted" aria-live="polite">
            {fmtTotal(result.total, result.total_relation)}{' '}
            {result.total === 1 && result.total_relation !== 'gte' ? kind.slice(0, -1) + ' matches' : kind + ' match'}
          </p>
          <Table
            caption={title}
            columns={columns[kind]}
            rows={result.items}
            rowKey={(d) => d.id}
            sort={sort}
            onSort={(s) => {
              setSort(s)
              setOffset(0)
            }}
          />
          <Pager total={result.total} atLeast={result.total_relation === 'gte'} limit={LIMIT} offset={offset} onPage={setOffset} />
        </>
      )}
    </div>
  )
}
