import { useEffect, useState } from 'react'
import { post, type List } from '../../api/client'
import type { Event, Session } from '../../api/types'
import { useGet, useTitle } from '../../app/hooks'
import { Link } from '../../components/Link'
import { ErrorText, Json, Loading } from '../../components/ui'
import { fmtTime } from '../../lib/format'
import type { Params } from '../../lib/router'

export default function SessionPage({ params }: { params: Params }) {
  useTitle('Session ' + params.id)
  const s = useGet<Session>('/sessions/' + encodeURIComponent(params.id))
  const [events, setEvents] = useState<List<Event> | null>(null)
  const [error, setError] = useState<unknown>(null)
  useEffect(() => {
    post<List<Event>>('/events/search', { where: 'session.id == ' + JSON.stringify(params.id), limit: 200 }).then(setEvents, setError)
  }, [params.id])
  if (s.error) return <ErrorText error={s.error} />
  if (!s.data) return <Loading />
  return (
    <div>
      <h1>
        Session <code>{s.data.id}</code>
      </h1>
      <p>
        Profile: <Link to={'/profiles/' + encodeURIComponent(s.data.profile.id)}>{s.data.profile.id}</Link>
      </p>
      <h2>Events</h2>
      <ErrorText error={error} />
      {events && (
        <ol className="plain">
          {events.items.map((e) => (
            <li key={e.id}>
              <span className="muted">{fmtTime(e.metadata?.time?.insert)}</span> <Link to={'/events/' + encodeURIComponent(e.id)}>{e.type}</Link>
            </li>
          ))}
          {events.total > events.items.length && <li className="muted">and {events.total - events.items.length} more</li>}
        </ol>
      )}
      <h2>Document</h2>
      <Json value={s.data} label="Session document" />
    </div>
  )
}
