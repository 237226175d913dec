import { useState } from 'react'
import { del, download, type List } from '../../api/client'
import type { Event, Profile, Session } from '../../api/types'
import { useGet, useTitle } from '../../app/hooks'
import { useSession } from '../../app/session'
import { Link } from '../../components/Link'
import { Confirm, ErrorText, Json, KeyValues, Loading } from '../../components/ui'
import { fmtNum, fmtTime } from '../../lib/format'
import { navigate, type Params } from '../../lib/router'
import { timeline } from '../../lib/timeline'

export default function ProfilePage({ params }: { params: Params }) {
  const id = params.id
  useTitle('Profile ' + id)
  const { can } = useSession()
  const [events, setEvents] = useState(100)
  const p = useGet<Profile>('/profiles/' + encodeURIComponent(id))
  const sessions = useGet<List<Session>>(`/profiles/${encodeURIComponent(id)}/sessions?limit=100`)
  const evs = useGet<List<Event>>(`/profiles/${encodeURIComponent(id)}/events?limit=${events}`)
  const [confirm, setConfirm] = useState(false)
  const [actionError, setActionError] = useState<unknown>(null)
  const [erased, setErased] = useState<Record<string, number> | null>(null)

  if (p.error) return <ErrorText error={p.error} />
  if (!p.data) return <Loading what="the profile" />
  const prof = p.data
  const email = (prof.data as { contact?: { email?: { main?: string } } } | null)?.contact?.email?.main
  const erase = async () => {
    setConfirm(false)
    try {
      setErased(await del<Record<string, number>>('/profiles/' + encodeURIComponent(prof.id)))
    } catch (e) {
      setActionError(e)
    }
  }
  if (erased) {
    return (
      <div>
        <h1>Profile erased</h1>
        <p role="status">
          Erased {erased.profiles} profile(s), {erased.sessions} session(s) and {erased.events} event(s). The erasure is in the audit log.
        </p>
        <button onClick={() => navigate('/profiles')}>Back to profiles</button>
      </div>
    )
  }
  const groups = timeline(sessions.data?.items ?? [], evs.data?.items ?? [])
  return (
    <div className="profile">
      <div className="page-head">
        <h1>
          Profile <code>{prof.id}</code>
        </h1>
        <div className="controls">
          <button onClick={() => download(`/profiles/${encodeURIComponent(prof.id)}/export`, `profile-${prof.id}.json`).catch(setActionError)}>
            Export (download)
          </button>
          {can('data-delete') && (
            <button className="danger" onClick={() => setConfirm(true)}>
              Erase…
            </button>
          )}
        </div>
      </div>
      {prof.id !== id && (
        <p className="note">
          <code>{id}</code> was merged into this profile.
        </p>
      )}
      <ErrorText error={actionError} />
      <div className="cards">
        <section className="card" aria-labelledby="h-summary">
          <h2 id="h-summary">Summary</h2>
          <dl className="kv">
            <div>
              <dt>E-mail</dt>
              <dd>{email ?? '—'}</dd>
            </div>
            <div>
              <dt>Visits</dt>
              <dd>{fmtNum(prof.stats?.visits as number)}</dd>
            </div>
            <div>
              <dt>Views</dt>
              <dd>{fmtNum(prof.stats?.views as number)}</dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>{fmtTime(prof.metadata?.time?.insert)}</dd>
            </div>
            <div>
              <dt>Updated</dt>
              <dd>{fmtTime(prof.metadata?.time?.update)}</dd>
            </div>
            <div>
              <dt>Active</dt>
              <dd>{prof.active ? 'yes' : 'no'}</dd>
            </div>
          </dl>
        </section>
        <section className="card" aria-labelledby="h-segments">
          <h2 id="h-segments">Segments</h2>
          {(prof.segments ?? []).length === 0 ? (
            <p className="muted">In no segment.</p>
          ) : (
            <ul className="chips">
              {prof.segments!.map((s) => (
                <li key={s}>{s}</li>
              ))}
            </ul>
          )}
        </section>
        <section className="card" aria-labelledby="h-traits">
          <h2 id="h-traits">Traits</h2>
          <KeyValues data={prof.traits} />
        </section>
        <section className="card" aria-labelledby="h-counters">
          <h2 id="h-counters">Counters and interests</h2>
          <KeyValues data={{ ...(prof.stats?.counters ?? {}), ...Object.fromEntries(Object.entries(prof.interests ?? {}).map(([k, v]) => ['interest: ' + k, v])) }} />
        </section>
        <section className="card" aria-labelledby="h-consents">
          <h2 id="h-consents">Consents</h2>
          <KeyValues data={prof.consents} />
        </section>
        <section className="card" aria-labelledby="h-ids">
          <h2 id="h-ids">Ids and merges</h2>
          <ul className="chips">
            {(prof.ids ?? []).map((i) => (
              <li key={i}>
                <code>{i}</code>
              </li>
            ))}
          </ul>
          {(prof.metadata?.merges ?? []).length > 0 && (
            <ul>
              {prof.metadata.merges!.map((m, i) => (
                <li key={i}>
                  {fmtTime(m.time as string)}: <code>{m.profile_id}</code> merged on {String(m.key ?? '')} {m.value ? `= ${String(m.value)}` : ''}{' '}
                  {m.by ? `(${String(m.by)})` : ''}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="card wide" aria-labelledby="h-data">
          <h2 id="h-data">Data</h2>
          <Json value={prof.data ?? {}} label="Profile data" />
        </section>
      </div>
      <section aria-labelledby="h-timeline">
        <h2 id="h-timeline">Timeline</h2>
        <ErrorText error={sessions.error ?? evs.error} />
        {(!sessions.data || !evs.data) && <Loading what="the timeline" />}
        {sessions.data && evs.data && (
          <>
            <p className="muted">
              {fmtNum(sessions.data.total)} sessions, {fmtNum(evs.data.total)} events
            </p>
            <ol className="timeline">
              {groups.map((g) => (
                <li key={g.sessionId}>
                  <h3>
                    Session{' '}
                    {g.session ? <Link to={'/sessions/' + encodeURIComponent(g.sessionId)}>{g.sessionId}</Link> : <code>{g.sessionId}</code>}{' '}
                    <span className="muted">{fmtTime(g.start)}</span>
                  </h3>
                  <ul>
                    {g.events.map((e) => (
                      <li key={e.id}>
                        <span className="muted">{fmtTime(e.metadata?.time?.insert)}</span>{' '}
                        <Link to={'/events/' + encodeURIComponent(e.id)}>{e.type}</Link>
                        {e.metadata?.status && e.metadata.status !== 'collected' && e.metadata.status !== 'processed' && (
                          <span className="tag">{e.metadata.status}</span>
                        )}
                      </li>
                    ))}
                    {g.events.length === 0 && <li className="muted">No events loaded for this session.</li>}
                  </ul>
                </li>
              ))}
            </ol>
            {evs.data.total > events && <button onClick={() => setEvents(events + 100)}>Load more events</button>}
          </>
        )}
      </section>
      <Confirm
        open={confirm}
        danger
        title="Erase this profile?"
        confirmLabel="Erase for good"
        onCancel={() => setConfirm(false)}
        onConfirm={() => void erase()}
      >
        <p>
          This erases profile <code>{prof.id}</code>, every id merged into it and all their sessions and events. It cannot be undone.
        </p>
      </Confirm>
    </div>
  )
}
